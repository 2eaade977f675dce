"""A damaged database is reported with what to do (restore a backup), never retried in silence.

The damage is real: pages of a real SQLite file overwritten on disk, as a
failing disk or a power cut mid-write leaves them. Each test runs the real
``edgehub`` command or a served hub and checks what an operator sees.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from tests.conftest import demo_database
from tests.support import local_http
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess, run_cli

PAGE = 4096


def _damage(db: Path) -> None:
    """Overwrite every page after the first (the header and the schema stay readable)."""
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.seek(PAGE)
        fh.write(b"\xa5" * (size - PAGE))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


@pytest.mark.parametrize("command", [["serve"], ["backup"], ["status"], ["token", "ana"]])
def test_a_damaged_database_stops_every_command_with_the_way_out(
    tmp_path: Path, command: list[str]
) -> None:
    """quick_check at start: serve, backup, status and token each say the file is damaged
    and to restore a backup, exit 2, write nothing and take no backup of the wreck."""
    db = demo_database(tmp_path / "edgehub.db")
    _damage(db)
    before = _digest(db)
    result = run_cli(db, *command)
    assert result.returncode == 2
    (line,) = _errors(result.stderr)
    assert line.startswith(f"error: EDGEHUB_DB: {db} is damaged (")
    backups = tmp_path / "backups"
    assert line.endswith(
        f"restore it from a backup: edgehub restore FILE (the backups are in {backups})"
    )
    assert "Traceback" not in result.stderr
    assert _digest(db) == before
    assert not (tmp_path / "backups").exists()


def test_a_file_that_is_not_a_database_is_named_as_such(tmp_path: Path) -> None:
    """SQLITE_NOTADB (a file overwritten whole, a wrong path to a text file) reads as damage."""
    db = tmp_path / "edgehub.db"
    db.write_text("these are not the pages you are looking for\n" * 200)
    before = _digest(db)
    result = run_cli(db, "backup")
    assert result.returncode == 2
    (line,) = _errors(result.stderr)
    assert f"{db} is damaged (file is not a database)" in line and "edgehub restore" in line
    assert _digest(db) == before


def test_damage_under_a_running_hub_is_503_restore_and_health_fails(tmp_path: Path) -> None:
    """Requests answer 503 saying to restore from backup (not "try again shortly"), /health
    fails with the same advice, and the log says it at ERROR once, without a traceback
    per request."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db).start()
    api = Api(hub.url)
    try:
        api.token("ana")
        _damage(db)
        for _ in range(3):
            r = api.get("/api/v1/products?limit=3")
            assert r.status_code == 503
            body = r.json()
            assert body["error"] == "unavailable"
            assert body["detail"] == {"cause": "database_damaged"}
            assert "restore it from a backup" in body["message"]
        health = local_http.get(hub.url + "/health")
        assert health.status_code == 503
        assert health.json()["status"] == "down"
        assert health.json()["checks"]["db"] == "damaged"
        assert "edgehub restore" in health.json()["detail"]["db"]["action"]
    finally:
        api.close()
        hub.stop()
    log = hub.log.read_text()
    damaged = [line for line in log.splitlines() if "database_damaged" in line]
    assert len(damaged) == 1 and " ERROR " in damaged[0]
    assert "Traceback" not in log


def test_the_health_job_finds_damage_no_request_touched(tmp_path: Path) -> None:
    """The periodic quick_check (job ``db_check``) fails, and /health with it, even while
    no till asks for anything."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db, EDGEHUB_JOB_DB_CHECK_SECONDS="0.2").start()
    try:
        _damage(db)
        deadline = time.monotonic() + 10
        while "job_failed job=db_check" not in hub.log.read_text():
            assert time.monotonic() < deadline, "the damage was not found"
            time.sleep(0.05)
        assert local_http.get(hub.url + "/health").status_code == 503
    finally:
        hub.stop()
    assert "database_damaged" in hub.log.read_text()


def test_restore_gets_a_damaged_store_back_and_keeps_the_wreck_aside(tmp_path: Path) -> None:
    """The way out the messages name works: ``edgehub restore`` over a damaged database
    (which SQLite's backup cannot copy) restores the backup and moves the damaged files
    aside, unrotated, for whoever looks into the disk."""
    db = demo_database(tmp_path / "edgehub.db")
    assert run_cli(db, "backup").returncode == 0
    (good,) = (tmp_path / "backups").glob("*.db")
    _damage(db)
    wreck = _digest(db)
    restored = run_cli(db, "restore", str(good))
    assert restored.returncode == 0, restored.stderr
    (kept,) = (tmp_path / "backups").glob("*-damaged.db")
    assert f"the database as it was is kept in {kept}" in restored.stdout
    assert _digest(kept) == wreck
    assert run_cli(db, "token", "ana").returncode == 0
    assert run_cli(db, "audit", "verify").returncode == 0
