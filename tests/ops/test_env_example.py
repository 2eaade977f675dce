"""systemd/edgehub.env.example: every setting documented, with its true default."""

from __future__ import annotations

import re

import pytest

from hub.settings import NAMES, WHOLE_GROUPS, Settings, field_of, value_of
from tests.ops.unitfile import SYSTEMD_DIR

EXAMPLE = SYSTEMD_DIR / "edgehub.env.example"
HEADING = re.compile(r"^# (EDGEHUB_[A-Z0-9_]+) \(default: (.*)\)$")
ASSIGNMENT = re.compile(r"^#?(EDGEHUB_[A-Z0-9_]+)=(.*)$")
NOT_A_FIELD = {"EDGEHUB_CONFIG"}  # names the TOML file; read before Settings exists


def headings() -> dict[str, str]:
    """Variable → the default its heading claims."""
    found = {}
    for line in EXAMPLE.read_text().splitlines():
        if match := HEADING.match(line):
            found[match[1]] = match[2]
    return found


def field_name(variable: str) -> str:
    return variable.removeprefix("EDGEHUB_").lower()


def test_every_setting_is_documented() -> None:
    """An operator only finds a setting that the example file names."""
    documented = {field_name(variable) for variable in headings()}
    assert set(NAMES) <= documented


def test_no_variable_is_misspelt() -> None:
    """A misspelt name in the env file is silently ignored, leaving the default in force."""
    known = {f"EDGEHUB_{name.upper()}" for name in NAMES.keys() | WHOLE_GROUPS} | NOT_A_FIELD
    named = set(headings())
    for line in EXAMPLE.read_text().splitlines():
        if match := ASSIGNMENT.match(line):
            named.add(match[1])
    assert named <= known


@pytest.mark.parametrize("variable", sorted(set(headings()) - NOT_A_FIELD))
def test_documented_default_is_the_real_default(variable: str) -> None:
    """A wrong default in the docs misleads whoever tunes a store at night."""
    name = field_name(variable)
    claimed = headings()[variable]
    if name in WHOLE_GROUPS:  # a JSON object of the group's fields; {} is every default
        assert claimed == "{}"
        assert getattr(Settings(**{name: claimed}), name) == getattr(Settings(), name)
        return
    default = field_of(name).default
    if claimed == "unset":
        assert default is None
    else:
        assert value_of(Settings(**{name: claimed}), name) == default


def test_values_the_example_sets_are_valid_settings() -> None:
    """systemd/install turns the example into the live env file; it must load."""
    values = {}
    for line in EXAMPLE.read_text().splitlines():
        if not line.startswith("#") and (match := ASSIGNMENT.match(line)):
            values[field_name(match[1])] = match[2]
    assert {"db", "store", "host", "mqtt_url"} <= set(values)
    settings = Settings(**values)
    assert str(settings.store.db) == "/var/lib/edgehub/edgehub.db"
