"""Online backups into a rotating set, and restore: taken while the hub writes, proven first."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from hub import backup
from hub.db import occupancy
from hub.settings import Settings
from tests.conftest import demo_database, make_settings
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess


def _uuids(db: Path) -> set[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {r[0] for r in conn.execute("SELECT uuid FROM orders")}


def test_backup_while_orders_flow_holds_every_order_committed_before_it(tmp_path: Path) -> None:
    """A backup taken mid-service is a consistent snapshot with every acknowledged sale in it."""
    db = demo_database(tmp_path / "edgehub.db")
    settings = make_settings(db)
    hub = HubProcess(db).start()
    acked: list[tuple[float, str]] = []
    stop = threading.Event()

    def till() -> None:
        api = Api(hub.url)
        session = api.open_session()
        while not stop.is_set():
            order = api.create(session)
            acked.append((time.monotonic(), order["uuid"]))
        api.close()

    writers = [threading.Thread(target=till) for _ in range(3)]
    try:
        for w in writers:
            w.start()
        while len(acked) < 30:
            time.sleep(0.01)
        started = time.monotonic()
        info = backup.take_backup(settings)
        while len(acked) < 60:  # the tills keep selling after the backup, too
            time.sleep(0.01)
    finally:
        stop.set()
        for w in writers:
            w.join()
        hub.stop()
    before = {u for t, u in acked if t < started}
    backup.check_file(info.path)
    in_backup = _uuids(info.path)
    assert before <= in_backup
    assert in_backup <= {u for _, u in acked}
    assert len(in_backup) < len(acked)  # it is a snapshot, not a copy made afterwards


def test_backup_is_one_private_self_contained_file(settings: Settings) -> None:
    """A backup holds PIN hashes: 0600, and no -wal beside it that a copy could miss."""
    info = backup.take_backup(settings)
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(info.path.parent.stat().st_mode) == 0o700
    assert [p.name for p in info.path.parent.iterdir()] == [info.path.name]
    with sqlite3.connect(info.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_rotation_keeps_the_newest_n(tmp_path: Path) -> None:
    """Backups do not fill the disk: the oldest beyond ``backup_keep`` are deleted."""
    settings = make_settings(demo_database(tmp_path / "edgehub.db"), backup_keep=3)
    taken = [backup.take_backup(settings).path for _ in range(5)]
    assert backup.list_backups(settings) == taken[-3:]


def test_restore_round_trip(tmp_path: Path) -> None:
    """What was backed up comes back; what came after is gone, but kept aside."""
    db = demo_database(tmp_path / "edgehub.db")
    settings = make_settings(db)
    hub = HubProcess(db).start()
    api = Api(hub.url)
    try:
        session = api.open_session()
        kept = api.create(session)["uuid"]
        copy = backup.take_backup(settings).path
        later = api.create(session)["uuid"]
    finally:
        api.close()
        hub.stop()
    info = backup.restore(settings, copy)
    assert _uuids(db) == {kept}
    assert info.safety_copy is not None and _uuids(info.safety_copy) == {kept, later}
    assert info.safety_copy not in backup.list_backups(settings)  # outside the rotation
    hub = HubProcess(db).start()  # and the hub serves the restored file
    api = Api(hub.url)
    try:
        assert api.get("/api/v1/orders").json()["items"][0]["uuid"] == kept
    finally:
        api.close()
        hub.stop()


def test_restore_refuses_a_corrupt_backup_and_changes_nothing(settings: Settings) -> None:
    """integrity_check first: a bad file must never replace a good database."""
    good = backup.take_backup(settings).path
    bad = good.with_name("edgehub-demo-corrupt.db")
    data = bytearray(good.read_bytes())
    data[5000:9000] = b"\xff" * 4000
    bad.write_bytes(bytes(data))
    before = settings.store.db.read_bytes()
    with pytest.raises(backup.BackupError):
        backup.restore(settings, bad)
    with pytest.raises(backup.BackupError, match="not an EdgeHub database"):
        empty = bad.with_name("empty.db")
        sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
        backup.restore(settings, empty)
    assert settings.store.db.read_bytes() == before


def test_restore_refuses_while_the_database_is_held_unless_forced(settings: Settings) -> None:
    """A restore under a running hub would pull its data away mid-sale; --force says you know."""
    copy = backup.take_backup(settings).path

    async def scenario() -> None:
        async with occupancy.held_open(settings):
            with pytest.raises(occupancy.InUse):
                backup.restore(settings, copy)
            info = backup.restore(settings, copy, force=True)
            assert info.hub_was_running

    asyncio.run(scenario())
    assert backup.restore(settings, copy).hub_was_running is False
