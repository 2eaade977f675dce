"""Reading systemd unit files well enough to assert on them.

configparser will not do: a unit may repeat a key (two ``Wants=`` lines add
up, an empty ``CapabilityBoundingSet=`` means "none"), so each key maps to the
list of its values in order.
"""

from __future__ import annotations

from pathlib import Path

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
INSTALLED_EXEC = "/opt/edgehub/.venv/bin/edgehub"

Unit = dict[str, dict[str, list[str]]]


def parse(path: Path) -> Unit:
    """Sections → keys → values, in file order; comments and blank lines dropped."""
    unit: Unit = {}
    section: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def words(unit: Unit, section: str, key: str) -> list[str]:
    """Every space-separated word of every value of ``key``, as systemd adds them up."""
    return [word for value in unit.get(section, {}).get(key, []) for word in value.split()]


def service_files() -> list[Path]:
    return sorted(SYSTEMD_DIR.glob("edgehub*.service"))


def unit_files() -> list[Path]:
    return [*service_files(), SYSTEMD_DIR / "edgehub.target"]
