"""The async face of SQLite: one writer thread with group commit, a few reader threads.

Every write of business state in this process goes through the single writer
thread, so writes in one process never contend with each other and the event
loop never blocks on a write. It reads on reader threads too, except the few
rows ``read_small`` is for, where the hop to a thread costs more than the read.
Writers in other processes (bridge, sync) queue
on SQLite's own lock through ``busy_timeout``. Readers each hold their own
read-only connection; in WAL mode they never block the writer and always see a
committed state.

Group commit: when several writes are waiting, the writer runs them in one
``BEGIN IMMEDIATE`` transaction, each inside its own SAVEPOINT, and commits
once. A job that raises is rolled back to its savepoint alone, so the others
are unaffected; no caller is answered before the COMMIT that holds its
change has returned, so an acknowledged write is on disk (one fsync for the
whole group instead of one per request).
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlite_utils

from hub.db.connection import open_db
from hub.db.migrations import migrate
from hub.db.readiness import is_corruption, restore_advice
from hub.logs import get_logger
from hub.settings import Settings

T = TypeVar("T")
log = get_logger("edgehub.db")

MAX_GROUP = 64  # writes per transaction at most; bounds the latency of the first one


@dataclass
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None
    done: bool = field(default=False)


class Store:
    """Owns the connections of one process; start() before use, close() after."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._writer_db: sqlite_utils.Database | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers = ThreadPoolExecutor(
            max_workers=max(1, settings.store.db_readers), thread_name_prefix="sqlite-reader"
        )
        self._local = threading.local()
        self._reader_dbs: list[sqlite_utils.Database] = []
        self._loop_db: sqlite_utils.Database | None = None  # read_small's, on the event loop
        self._loop_thread: int | None = None
        self._lock = threading.Lock()
        self.commits = 0
        self.writes = 0
        self._write_listeners: list[Callable[[], None]] = []
        # Set once SQLite said the file itself is damaged; /health then fails until a
        # restore and a restart (hub.db.readiness says what to do).
        self.damage: str | None = None

    def note_error(self, exc: BaseException) -> None:
        """Remember an error that says the file itself is damaged (any other passes)."""
        if is_corruption(exc):
            self.mark_damaged(str(exc))

    def mark_damaged(self, reason: str) -> None:
        """Record that the database is damaged, and log it at ERROR once.

        Called from any thread; a plain attribute write is atomic under the GIL,
        and a second report of the same damage changes nothing.
        """
        if self.damage is not None:
            return
        self.damage = reason
        log.error(
            "database_damaged",
            path=self.settings.store.db,
            error=reason,
            action=restore_advice(self.settings),
        )

    def start(self) -> None:
        """Open the writer connection, bring the schema up to date, start the writer."""
        db = open_db(self.settings)
        migrate(db)
        self._writer_db = db
        self._writer = threading.Thread(target=self._write_loop, name="sqlite-writer", daemon=True)
        self._writer.start()

    def on_write(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` on the event loop after every committed write.

        The WebSocket fan-out uses it to deliver this process's events at once
        rather than at its next poll of the log. A listener must be quick and
        must not raise.
        """
        self._write_listeners.append(listener)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(db, *args)`` in a write transaction on the writer thread.

        Returns after the transaction holding the change has committed.
        """
        if self._writer is None:
            raise RuntimeError("Store.start() was not called")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(fn, args, kwargs, loop, future))
        result = await future
        for listener in self._write_listeners:
            listener()
        return result

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(db, *args)`` on a reader thread, in one read snapshot."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn, args, kwargs)

    async def read_small(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a short read (a few rows by key) on the event loop's own connection.

        Waking a reader thread and handing the GIL back and forth costs more
        than reading a handful of rows by key, and the WebSocket tailer reads
        what was just committed after every commit. Only for reads bounded to
        a few rows by their caller: anything longer belongs on ``read``.

        The connection never waits for a lock (``busy_timeout`` 0): in WAL mode
        a reader is refused only while a crashed writer's log is recovered
        (SQLITE_BUSY_RECOVERY), and then the read goes to a reader thread,
        which may wait. The connection belongs to the first thread that opens
        it; any other thread reads through the readers.
        """
        if self._loop_db is None and self._loop_thread is None:
            opened = open_db(self.settings, readonly=True)
            opened.conn.execute("PRAGMA busy_timeout = 0")
            self._loop_db, self._loop_thread = opened, threading.get_ident()
        db = self._loop_db
        if db is None or self._loop_thread != threading.get_ident():
            return await self.read(fn, *args, **kwargs)
        db.conn.execute("BEGIN")
        try:
            return fn(db, *args, **kwargs)
        except sqlite3.OperationalError as exc:
            # Extended codes: BUSY_RECOVERY and BUSY_SNAPSHOT are BUSY in the low byte.
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
        except sqlite3.DatabaseError as exc:
            self.note_error(exc)
            raise
        finally:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
        return await self.read(fn, *args, **kwargs)

    def _write_loop(self) -> None:
        db = self._writer_db
        assert db is not None
        while True:
            job = self._jobs.get()
            if job is None:
                return
            group = [job]
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._jobs.put(None)  # stop after this group
                    break
                group.append(nxt)
            self._run_group(db, group)

    def _run_group(self, db: sqlite_utils.Database, group: list[_Job]) -> None:
        conn = db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            self.note_error(exc)
            for job in group:
                job.error = exc
            self._answer(group)
            return
        for job in group:
            conn.execute("SAVEPOINT job")
            try:
                job.result = job.fn(db, *job.args, **job.kwargs)
            except BaseException as exc:
                self.note_error(exc)
                job.error = exc
                if conn.in_transaction:
                    conn.execute("ROLLBACK TO SAVEPOINT job")
                    conn.execute("RELEASE SAVEPOINT job")
                else:  # the error ended the whole transaction: start a new one for the rest
                    conn.execute("BEGIN IMMEDIATE")
            else:
                conn.execute("RELEASE SAVEPOINT job")
        try:
            conn.execute("COMMIT")
            self.commits += 1
            self.writes += len(group)
        except BaseException as exc:
            self.note_error(exc)
            log.exception("commit_failed", jobs=len(group))
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in group:
                if job.error is None:
                    job.error = exc
        self._answer(group)

    @staticmethod
    def _answer(group: list[_Job]) -> None:
        # One wake-up of each event loop per group, not one per job: each
        # call_soon_threadsafe writes to the loop's self-pipe.
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in group:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            loop.call_soon_threadsafe(_settle_all, jobs)

    def _run_read(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is None:
            db = open_db(self.settings, readonly=True)
            self._local.db = db
            with self._lock:
                self._reader_dbs.append(db)
        # A read of several statements sees one snapshot.
        db.conn.execute("BEGIN")
        try:
            return fn(db, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            self.note_error(exc)
            raise
        finally:
            db.conn.execute("ROLLBACK")

    def close(self) -> None:
        if self._writer is not None:
            self._jobs.put(None)
            self._writer.join()
            self._writer = None
        self._readers.shutdown(wait=True)
        if self._writer_db is not None:
            self._writer_db.close()
            self._writer_db = None
        with self._lock:
            for db in self._reader_dbs:
                db.close()
            self._reader_dbs.clear()
        if self._loop_db is not None:
            self._loop_db.close()
            self._loop_db = None


def _settle_all(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.cancelled():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)
