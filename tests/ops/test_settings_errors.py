"""Bad settings are start-up errors naming the setting: one line each, exit 2, nothing written.

Each test runs the real ``edgehub`` command on a demo store, as an operator
would with a wrong env file or TOML file, and checks the message, the exit
status, and that the database file is byte for byte what it was.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import demo_database
from tests.support.hub_process import HubProcess, hub_env, run_cli

REDIS = "redis://127.0.0.1:6379/0"  # the shared Redis every test machine runs


def _state(db: Path) -> dict[str, str]:
    """The database and its siblings (WAL, lock, key), by content: proof nothing was written."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(db.parent.iterdir())
        if path.name.startswith(db.name)
    }


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return demo_database(tmp_path / "store" / "edgehub.db")


def test_a_redis_url_without_a_scheme_stops_serve_before_it_serves(db: Path) -> None:
    """``127.0.0.1:6379`` used to print "serving" and then kill the hub (a crash loop under
    systemd) while ``status`` called Redis fine; both now name the setting and stop."""
    before = _state(db)
    for command in ("serve", "status"):
        result = run_cli(db, command, EDGEHUB_REDIS_URL="127.0.0.1:6379")
        assert result.returncode == 2, result.stderr
        assert _errors(result.stderr) == [
            "error: EDGEHUB_REDIS_URL='127.0.0.1:6379': must be a URL like "
            "redis://127.0.0.1:6379/0 (scheme redis or rediss or unix)"
        ]
        assert "serving" not in result.stderr and "Traceback" not in result.stderr
    assert _state(db) == before
    hub = HubProcess(db, EDGEHUB_REDIS_URL=REDIS).start()  # the right form serves
    hub.stop()


def test_invalid_toml_names_the_file_and_the_line(db: Path, tmp_path: Path) -> None:
    """A broken TOML file is one line with its path and where it broke, not a traceback."""
    config = tmp_path / "edgehub.toml"
    config.write_text('store = "s1"\nport = \n')
    before = _state(db)
    result = run_cli(db, "serve", EDGEHUB_CONFIG=str(config))
    assert result.returncode == 2
    (line,) = _errors(result.stderr)
    assert line.startswith(f"error: EDGEHUB_CONFIG: {config} is not valid TOML: ")
    assert "line 2" in line
    assert "Traceback" not in result.stderr
    assert _state(db) == before


def test_a_value_of_the_wrong_type_names_the_key_the_file_and_each_problem(
    db: Path, tmp_path: Path
) -> None:
    """Every bad value is reported at once, each on its line with where it was set;
    a secret's value is never echoed."""
    config = tmp_path / "edgehub.toml"
    config.write_text('port = "eighty"\nodoo_api_key = 12345\n')
    before = _state(db)
    result = run_cli(db, "status", EDGEHUB_CONFIG=str(config), EDGEHUB_LOG_LEVEL="loud")
    assert result.returncode == 2
    where = f"in {config} (EDGEHUB_CONFIG)"
    assert sorted(_errors(result.stderr)) == sorted(
        [
            "error: EDGEHUB_LOG_LEVEL='loud': must be one of debug, info, warning, error, critical",
            f"error: port = 'eighty' {where}: Input should be a valid integer, "
            "unable to parse string as an integer",
            f"error: odoo_api_key {where}: Input should be a valid string",
        ]
    )
    assert "12345" not in result.stderr
    assert _state(db) == before


def test_edgehub_config_naming_a_missing_file_is_an_error(db: Path, tmp_path: Path) -> None:
    """A missing TOML file used to be ignored, every setting in it silently at its default."""
    before = _state(db)
    missing = tmp_path / "etc" / "edgehub.toml"
    result = run_cli(db, "serve", EDGEHUB_CONFIG=str(missing))
    assert result.returncode == 2
    assert _errors(result.stderr) == [f"error: EDGEHUB_CONFIG: no file at {missing}"]
    assert _state(db) == before


def test_a_misspelt_setting_is_an_error_with_the_nearest_name(db: Path, tmp_path: Path) -> None:
    """``EDGEHUB_REDIS_ULR`` would leave Redis off without a word; the near miss is refused
    and the setting it meant is named, in the env and in the TOML file alike."""
    config = tmp_path / "edgehub.toml"
    config.write_text("prot = 8001\n")
    before = _state(db)
    result = run_cli(db, "serve", EDGEHUB_REDIS_ULR=REDIS, EDGEHUB_CONFIG=str(config))
    assert result.returncode == 2
    assert _errors(result.stderr) == [
        "error: EDGEHUB_REDIS_ULR is not a setting; did you mean EDGEHUB_REDIS_URL?",
        f"error: prot in {config} (EDGEHUB_CONFIG) is not a setting; did you mean port?",
    ]
    assert _state(db) == before


def test_a_read_only_database_directory_is_one_line_not_an_exception_group(db: Path) -> None:
    """The directory the hub cannot write in is named, instead of a 50-line ExceptionGroup."""
    before = _state(db)
    folder = db.parent
    folder.chmod(0o555)
    try:
        result = subprocess.run(
            [*_without_root_override(), sys.executable, "-m", "hub.cli", "serve"],
            env=hub_env(db),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert _errors(result.stderr) == [
        f"error: EDGEHUB_DB: cannot write to {folder} (permission denied): the database and "
        "its WAL and lock files are written beside edgehub.db. Give this user write access "
        "(the services run as edgehub), or point EDGEHUB_DB elsewhere"
    ]
    assert "Traceback" not in result.stderr and "ExceptionGroup" not in result.stderr
    assert _state(db) == before


def _without_root_override() -> list[str]:
    """Root writes anywhere; without CAP_DAC_OVERRIDE it meets the mode bits as the
    service's own user would."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
