"""The docs point only at files that are in this repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")
NAMED = re.compile(r"(?<![\w./-])([\w./-]+\.md)\b")


def _docs() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed]


def _exists(doc: Path, target: str) -> bool:
    path = target.split("#")[0]
    return any((base / path).exists() for base in (doc.parent, ROOT, ROOT / "docs"))


def test_every_link_and_named_document_is_in_the_repository() -> None:
    """A link to a file only the authors have is a dead end for the operator who follows it."""
    missing = []
    for doc in _docs():
        text = doc.read_text()
        for target in LINK.findall(text):
            if not target.startswith(("http://", "https://", "mailto:", "#")) and not _exists(
                doc, target
            ):
                missing.append(f"{doc.relative_to(ROOT)}: link {target}")
        for name in NAMED.findall(text):
            if not _exists(doc, name):
                missing.append(f"{doc.relative_to(ROOT)}: names {name}")
    assert missing == []
