"""``Store.read_small``: the event loop's own connection, and where it must not be used."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlite_utils

from hub import events
from hub.db.connection import open_db
from hub.db.store import Store
from hub.settings import Settings


def append(db: sqlite_utils.Database, note: str) -> int:
    return events.append(db, "catalog.updated", {"note": note}, ["store"])


def test_small_reads_see_every_committed_write(store: Store) -> None:
    """The tailer reads right after a commit: a small read must see it, every time."""

    async def scenario(store: Store) -> list[tuple[int, int]]:
        seen = []
        for n in range(20):
            seq = await store.write(append, f"test.{n}")
            seen.append((seq, await store.read_small(events.head)))
        return seen

    seen = asyncio.run(scenario(store))
    assert [head for _, head in seen] == [seq for seq, _ in seen]


def test_a_second_thread_reads_through_the_readers(store: Store) -> None:
    """The loop's connection is not shared with another thread's loop, which still gets answers."""
    threads: list[str] = []

    def head(db: sqlite_utils.Database) -> int:
        threads.append(threading.current_thread().name)
        return events.head(db)

    asyncio.run(store.write(append, "first"))
    assert asyncio.run(store.read_small(head)) == 1
    other: list[int] = []
    thread = threading.Thread(target=lambda: other.append(asyncio.run(store.read_small(head))))
    thread.start()
    thread.join()
    assert other == [1]
    assert threads[0] == threading.current_thread().name
    assert threads[1].startswith("sqlite-reader")


def test_a_refused_small_read_is_answered_by_a_reader(store: Store) -> None:
    """SQLITE_BUSY on the loop's connection (WAL recovery): a reader thread answers instead."""
    threads: list[str] = []

    def head_refused_once(db: sqlite_utils.Database) -> int:
        threads.append(threading.current_thread().name)
        if len(threads) == 1:
            # What a reader gets while a crashed writer's WAL is recovered: an
            # extended code, BUSY in its low byte.
            refused = sqlite3.OperationalError("database is locked")
            refused.sqlite_errorcode = sqlite3.SQLITE_BUSY_RECOVERY
            raise refused
        return events.head(db)

    async def scenario() -> int:
        await store.write(append, "first")
        return await store.read_small(head_refused_once)

    assert asyncio.run(scenario()) == 1
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        asyncio.run(store.read_small(lambda db: db.execute("SELECT * FROM nowhere")))
    assert threads[0] == "MainThread" and threads[1].startswith("sqlite-reader")


def test_append_many_writes_in_order_as_one_statement(store: Store) -> None:
    """``events.append_many``: one row per item, consecutive seqs, in the order given."""

    def write(db: sqlite_utils.Database) -> None:
        events.append_many(db, "device.status", [{"n": n} for n in range(5)], ["devices"])

    async def scenario(store: Store) -> list[events.Event]:
        before = await store.read_small(events.head)
        await store.write(write)
        return await store.read(events.read_since, before)

    written = asyncio.run(scenario(store))
    assert [r.body() for r in written] == [{"n": n} for n in range(5)]
    assert [r.seq for r in written] == list(range(written[0].seq, written[0].seq + 5))
    assert all(r.event == "device.status" and r.rooms == ("devices",) for r in written)


def test_append_many_outside_a_transaction_is_refused(tmp_path: Path) -> None:
    """Like ``append``: rows written on their own could outlive a change that rolled back."""
    db = open_db(Settings(db=str(tmp_path / "hub.db")))
    with pytest.raises(RuntimeError, match="transaction"):
        events.append_many(db, "device.status", [{"n": 1}], ["devices"])
