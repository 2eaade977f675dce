"""No silent empty hub: only migrate and demo create a database; serve needs a user.

Each test runs the real ``edgehub`` command the way an operator mistyping
``EDGEHUB_DB`` would, and checks the message, the exit status, and that no
file appeared and none changed.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from pathlib import Path

from hub.settings import Settings
from tests.conftest import demo_database
from tests.support import launch
from tests.support.hub_process import hub_env, run_cli

DEFAULT_DB = Path("/var/lib/edgehub/edgehub.db")


def _run_in(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``edgehub ARGS`` started in ``cwd``, as an operator in another directory would."""
    return launch.run(args, {**hub_env(Path("unused")), **env}, timeout=60, cwd=cwd)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_user_add_refuses_a_database_that_does_not_exist(tmp_path: Path) -> None:
    """``user add`` on a mistyped path used to make a new store there; now it names the
    path and the setting, and creates nothing."""
    missing = tmp_path / "typo" / "edgehub.db"
    result = run_cli(missing, "user", "add", "boss", "--role", "admin", "--pin", "2468")
    assert result.returncode == 2
    (line,) = _errors(result.stderr)
    assert line.startswith(f"error: EDGEHUB_DB: no database at {missing}. ")
    assert "`edgehub migrate`" in line
    assert "edgehub user add: not started; nothing was changed" in result.stderr
    assert not (tmp_path / "typo").exists()


def test_a_relative_edgehub_db_is_named_in_full_and_not_created(tmp_path: Path) -> None:
    """``EDGEHUB_DB=edgehub.db`` run from another directory: the message shows where that
    is, and no database appears in the directory the command ran in."""
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    result = _run_in(elsewhere, "token", "admin", EDGEHUB_DB="edgehub.db")
    assert result.returncode == 2
    assert f"no database at {elsewhere / 'edgehub.db'}" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_the_default_database_is_the_state_directory_not_the_current_one(
    tmp_path: Path,
) -> None:
    """Without EDGEHUB_DB a command looks where the systemd units keep the store, and
    never creates a database where it is run."""
    assert Settings().store.db == DEFAULT_DB
    env = {k: v for k, v in hub_env(Path("unused")).items() if k != "EDGEHUB_DB"}
    result = launch.run(["token", "admin"], env, timeout=60, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []
    if not DEFAULT_DB.exists():
        assert result.returncode == 2
        assert f"no database at {DEFAULT_DB}" in result.stderr


def test_a_command_refuses_a_database_that_was_never_migrated(tmp_path: Path) -> None:
    """An empty SQLite file (what the old hub left behind) is not a store: ``token`` says
    so instead of crashing with "no such table"."""
    empty = tmp_path / "edgehub.db"
    sqlite3.connect(empty).close()
    before = empty.read_bytes()
    result = run_cli(empty, "token", "admin")
    assert result.returncode == 2
    assert _errors(result.stderr) == [
        f"error: EDGEHUB_DB: {empty} is not an EdgeHub database (never migrated). Point "
        "EDGEHUB_DB at the store's database, or run `edgehub migrate` to make this one"
    ]
    assert "no such table" not in result.stderr
    assert empty.read_bytes() == before
    assert run_cli(empty, "migrate").returncode == 0  # migrate may make it one


def test_serve_refuses_a_store_without_users(tmp_path: Path) -> None:
    """A migrated store nobody can log in to is not served: the operator is told the
    first step, and the hub does not start."""
    db = tmp_path / "edgehub.db"
    assert run_cli(db, "migrate").returncode == 0
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = run_cli(db, "serve", EDGEHUB_PORT="1")
    assert result.returncode == 2
    assert _errors(result.stderr) == [
        f"error: the store in {db} (EDGEHUB_DB) has no users, so no till could log in: "
        "add the first with `edgehub user add admin --role admin`, then start serve"
    ]
    assert "serving" not in result.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    added = run_cli(db, "user", "add", "admin", "--role", "admin", "--pin", "2468")
    assert added.returncode == 0, added.stderr


def test_migrate_and_demo_still_create_a_store(tmp_path: Path) -> None:
    """The two commands that make a store keep doing so, in a directory not yet there."""
    assert run_cli(tmp_path / "a" / "edgehub.db", "migrate").returncode == 0
    assert run_cli(tmp_path / "b" / "edgehub.db", "demo").returncode == 0
    assert run_cli(demo_database(tmp_path / "c.db"), "token", "admin").returncode == 0
