"""EDGEHUB_* names that are not settings: ignored, but never silently."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from hub import settings_problems
from hub.settings import unknown_settings
from tests.conftest import demo_database
from tests.support.hub_process import HubProcess, run_cli

WARNING = "settings_ignored"


def test_unknown_and_removed_variables_are_named() -> None:
    """An operator's old or foreign variable is named, a removed one with what replaced it;
    a near miss of a setting (EDGEHUB_PROT) is not here: it is an error (test_settings_errors)."""
    found = unknown_settings(
        {
            "EDGEHUB_DB": "x.db",
            "edgehub_store": "s1",  # Settings match names case-insensitively
            "EDGEHUB_CONFIG": "",
            "EDGEHUB_SYNC_LAG_ALERT_SECONDS": "300",
            "EDGEHUB_SYNC_CONSUMER": "sync",
            "EDGEHUB_PROT": "8001",
            "PATH": "/usr/bin",
        }
    )
    assert [entry.split(" ")[0] for entry in found] == [
        "EDGEHUB_SYNC_CONSUMER",
        "EDGEHUB_SYNC_LAG_ALERT_SECONDS",
    ]
    assert "EDGEHUB_SYNC_LAG_WARN_SECONDS" in found[1]
    assert "cursor is always named sync" in found[0]


def test_unknown_keys_of_the_toml_file_are_named(tmp_path: Path) -> None:
    """The TOML file is read by Settings too, so its unknown keys are as silent."""
    config = tmp_path / "edgehub.toml"
    config.write_text('port = 8001\nLOG_LEVEL = "debug"\nsync_lag_alert_seconds = 300\n')
    found = unknown_settings({"EDGEHUB_CONFIG": str(config)})
    assert len(found) == 1
    assert found[0].startswith("sync_lag_alert_seconds in EDGEHUB_CONFIG (removed;")
    assert unknown_settings({"EDGEHUB_CONFIG": str(tmp_path / "absent.toml")}) == []


def test_a_command_warns_once_and_still_runs(tmp_path: Path) -> None:
    """A left-over variable must not stop a command, and must not go unnoticed."""
    result = run_cli(
        tmp_path / "edgehub.db",
        "migrate",
        EDGEHUB_SYNC_LAG_ALERT_SECONDS="300",
        EDGEHUB_NOT_A_SETTING="1",
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if WARNING in line]
    assert len(warnings) == 1
    assert "WARNING" in warnings[0]
    for name in ("EDGEHUB_NOT_A_SETTING", "EDGEHUB_SYNC_LAG_ALERT_SECONDS"):
        assert name in warnings[0]
    assert "EDGEHUB_SYNC_LAG_WARN_SECONDS" in warnings[0]
    for known in ("EDGEHUB_DB", "EDGEHUB_LOG_LEVEL", "EDGEHUB_PIN_HASH_ITERATIONS"):
        assert f"'{known}" not in warnings[0]


def test_known_variables_raise_no_warning(tmp_path: Path) -> None:
    """A clean env file gives a clean start: the warning means something when it shows."""
    result = run_cli(tmp_path / "edgehub.db", "migrate", EDGEHUB_SYNC_LAG_WARN_SECONDS="900")
    assert result.returncode == 0, result.stderr
    assert WARNING not in result.stderr


def test_a_served_hub_names_the_removed_variable(tmp_path: Path) -> None:
    """edgehub serve is what reads an old env file under systemd: its log says what did nothing."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db, EDGEHUB_SYNC_CONSUMER="sync").start()
    hub.stop()
    warnings = [line for line in hub.log.read_text().splitlines() if WARNING in line]
    assert len(warnings) == 1 and "EDGEHUB_SYNC_CONSUMER" in warnings[0]


def test_the_config_file_is_read_once_for_problems_settings_and_ignored_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One reading of EDGEHUB_CONFIG gives the errors, the Settings and the ignored names,
    so they cannot disagree about a file that changes while the hub starts."""
    config = tmp_path / "edgehub.toml"
    config.write_text("port = 8123\nforeign_thing = 1\n")
    reads = []
    load = tomllib.load

    def counting(fh: BinaryIO) -> dict[str, Any]:
        reads.append(fh.name)
        return load(fh)

    monkeypatch.setattr(tomllib, "load", counting)
    for name in [n for n in os.environ if n.startswith("EDGEHUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("EDGEHUB_DB", str(tmp_path / "edgehub.db"))
    monkeypatch.setenv("EDGEHUB_CONFIG", str(config))
    settings, problems, table = settings_problems.read(os.environ)
    assert problems == [] and settings is not None and settings.server.port == 8123
    assert unknown_settings(os.environ, table) == ["foreign_thing in EDGEHUB_CONFIG"]
    assert reads == [str(config)]
