"""The operator's commands: backup, restore, status, device tokens, and their help."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import jwt
import pytest

from hub.db.connection import immediate, open_db
from hub.db.migrations import migrations
from tests.conftest import demo_database, make_settings
from tests.support import local_http
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess, run_cli


def _orders(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0])


def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    """Backup while serving; restore refuses under a running hub unless forced."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db).start()
    api = Api(hub.url)
    try:
        session = api.open_session()
        api.create(session)
        made = run_cli(db, "backup")
        assert made.returncode == 0, made.stderr
        named = re.search(r"^backup (\S+) ", made.stdout, re.MULTILINE)
        assert named, made.stdout
        path = Path(named[1])
        api.create(session)
        refused = run_cli(db, "restore", str(path))
        assert refused.returncode == 2 and "stop it first" in refused.stderr
        assert _orders(db) == 2
        forced = run_cli(db, "restore", str(path), "--force")
        assert forced.returncode == 0, forced.stderr
        assert "restart it now" in forced.stdout
        assert _orders(db) == 1
    finally:
        api.close()
        hub.stop()


def test_restore_of_a_damaged_file_changes_nothing(tmp_path: Path) -> None:
    """The backup is proven before anything is touched, and the operator is told so."""
    db = demo_database(tmp_path / "edgehub.db")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    before = db.read_bytes()
    result = run_cli(db, "restore", str(bad))
    assert result.returncode == 1 and "nothing was changed" in result.stderr
    assert db.read_bytes() == before


def test_status_shows_the_jobs_a_hub_ran(tmp_path: Path) -> None:
    """The person at the box sees each job's last run without opening the database."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db).start()
    try:
        deadline = time.monotonic() + 10
        while "edgehub-demo-" not in str(local_http.get(hub.url + "/health").json()["detail"]):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        hub.stop()
    out = run_cli(db, "status").stdout
    for text in ("periodic jobs", "backup", "event_prune", "sync_watch", "audit trail", "ok"):
        assert text in out, text
    assert len(out.splitlines()) <= 50  # one screen of a 50-row terminal


def _migrated_up_to(db: Path, stop_before: str) -> Path:
    """A database with every migration before ``stop_before`` applied, the rest pending."""
    conn = open_db(make_settings(db))
    with immediate(conn):
        migrations.apply(conn, stop_before=stop_before)
    conn.close()
    return db


def test_status_shows_the_sync_while_a_migration_is_pending(tmp_path: Path) -> None:
    """A box upgraded but not yet migrated still shows its sync, as it did before."""
    fresh = open_db(make_settings(tmp_path / "fresh.db"))
    names = [m.name for m in migrations.pending(fresh)]
    fresh.close()
    after_sync = names[names.index("0004_sync") + 1]
    db = _migrated_up_to(tmp_path / "edgehub.db", after_sync)
    out = run_cli(db, "status", COLUMNS="240").stdout
    assert "migration(s) pending" in out
    assert "idle: agent idle" in out and "0 events unread, 0 pending, 0 parked" in out


def test_status_without_sync_tables_says_so(tmp_path: Path) -> None:
    """Before the sync's own migration there is nothing to read, and status says why."""
    db = _migrated_up_to(tmp_path / "edgehub.db", "0004_sync")
    result = run_cli(db, "status", COLUMNS="240")
    assert result.returncode == 0, result.stderr
    assert "no sync tables yet" in result.stdout and "sync queue" not in result.stdout


def test_device_tokens_last_what_was_asked_or_the_device_default(tmp_path: Path) -> None:
    """A KDS on the wall cannot log in each shift; its token lasts, and can be bounded."""
    db = demo_database(tmp_path / "edgehub.db")
    assert run_cli(db, "user", "add", "kds-1", "--role", "device", "--pin", "4321").returncode == 0

    def lifetime(*args: str) -> float:
        result = run_cli(db, "token", *args)
        assert result.returncode == 0, result.stderr
        claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
        return float(claims["exp"] - claims["iat"])

    assert lifetime("kds-1") == pytest.approx(30 * 86400, abs=5)
    assert lifetime("kds-1", "--ttl", "90d") == pytest.approx(90 * 86400, abs=5)
    assert lifetime("kds-1", "--ttl", "3600") == pytest.approx(3600, abs=5)
    assert lifetime("ana") == pytest.approx(12 * 3600, abs=5)  # staff keep a shift's token
    bad = run_cli(db, "token", "kds-1", "--ttl", "forever")
    assert bad.returncode == 2 and "not a duration" in bad.stderr


def test_every_new_command_has_help(tmp_path: Path) -> None:
    """--help works for every command an operator may type at night."""
    for args in (
        ["backup"],
        ["restore"],
        ["audit", "verify"],
        ["device", "login"],
        ["device", "add"],
        ["token"],
    ):
        result = run_cli(tmp_path / "x.db", *args, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout, args
