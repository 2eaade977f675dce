"""The async face of SQLite: one writer thread, a few reader threads.

Every write of business state in this process goes through the single writer
thread, one ``BEGIN IMMEDIATE`` transaction per call, so writes in one process
never contend with each other and the event loop never blocks on a query.
Writers in other processes (bridge, sync) queue on SQLite's own lock through
``busy_timeout``. Readers each hold their own read-only connection; in WAL mode
they never block the writer and always see a committed state.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

import sqlite_utils

from hub.db.connection import immediate, open_db
from hub.db.migrations import migrate
from hub.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")


class Store:
    """Owns the connections of one process; start() before use, close() after."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._writer_db: sqlite_utils.Database | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(
            max_workers=max(1, settings.db_readers), thread_name_prefix="sqlite-reader"
        )
        self._local = threading.local()
        self._reader_dbs: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()
        self._write_listeners: list[Callable[[], None]] = []

    def start(self) -> None:
        """Open the writer connection and bring the schema up to date."""
        db = open_db(self.settings)
        migrate(db)
        self._writer_db = db

    def on_write(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` on the event loop after every committed write.

        The WebSocket fan-out uses it to deliver this process's events at once
        rather than at its next poll of the log. A listener must be quick and
        must not raise.
        """
        self._write_listeners.append(listener)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(db, *args)`` in one write transaction on the writer thread."""
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._writer, self._run_write, fn, args, kwargs)
        for listener in self._write_listeners:
            listener()
        return result

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(db, *args)`` on a reader thread, outside any write transaction."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn, args, kwargs)

    def _run_write(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        db = self._writer_db
        if db is None:
            raise RuntimeError("Store.start() was not called")
        with immediate(db):
            return fn(db, *args, **kwargs)

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
        finally:
            db.conn.execute("ROLLBACK")

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        if self._writer_db is not None:
            self._writer_db.close()
            self._writer_db = None
        with self._lock:
            for db in self._reader_dbs:
                db.close()
            self._reader_dbs.clear()
