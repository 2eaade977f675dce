"""Golden files: exact bytes the renderer must keep producing, reviewable in a diff.

Each file holds one printed line per row: the hex of its bytes (the truth),
then ``#`` and a readable form (code page text, control bytes as ``\\xNN``)
that is only there for the reviewer. A change to the renderer shows up in
``git diff`` as the rows that changed.

``EDGEHUB_REGEN_GOLDEN=1 pytest tests/firmware_bridge`` rewrites the files and
still fails every test that rewrote one, so regeneration is never silent: it
passes only on the next run, after the diff has been looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"
REGEN_FLAG = "EDGEHUB_REGEN_GOLDEN"


def dump(data: bytes, codec: str = "cp858") -> str:
    rows = []
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        chunk = data[start:end]
        readable = "".join(
            chr(b) if 0x20 <= b < 0x7F else bytes([b]).decode(codec) if b >= 0x80 else f"\\x{b:02x}"
            for b in chunk
        )
        rows.append(f"{chunk.hex()}  # {readable}")
        start = end
    return "\n".join(rows) + "\n"


def load(text: str) -> bytes:
    return bytes.fromhex("".join(row.split("#", 1)[0] for row in text.splitlines()))


def check_golden(name: str, data: bytes) -> None:
    """Fail unless ``data`` equals the golden file ``name``; rewrite it when asked to."""
    path = GOLDEN_DIR / f"{name}.hex"
    if os.environ.get(REGEN_FLAG) == "1":
        path.write_text(dump(data), encoding="utf-8")
        pytest.fail(f"rewrote {path.name}; review the diff, then rerun without {REGEN_FLAG}")
    if not path.exists():
        pytest.fail(f"no golden file {path.name}; create it with {REGEN_FLAG}=1 and review it")
    expected = load(path.read_text(encoding="utf-8"))
    if data != expected:
        # Compare the readable forms so pytest shows which printed lines differ.
        assert dump(data).splitlines() == dump(expected).splitlines()
        raise AssertionError("bytes differ")  # unreachable unless dump loses information
