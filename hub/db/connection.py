"""Opening the one SQLite file every EdgeHub process shares.

WAL lets readers run beside the single writer; ``busy_timeout`` makes a writer
in another process wait for the lock instead of failing; foreign keys are off
by default in SQLite and must be asked for on every connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from hub.settings import Settings


def open_db(settings: Settings, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open a connection with the pragmas every connection needs."""
    path = Path(settings.store.db)
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so the sqlite3
    # module never opens a transaction behind our back.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute(f"PRAGMA busy_timeout = {int(settings.store.db_busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        # Only takes effect on a new file (before its first table): lets the
        # db_optimize job hand freed pages back a few at a time (hub.periodic).
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"SQLite refused WAL mode on {path} (got {mode})")
    conn.execute(f"PRAGMA synchronous = {settings.store.db_synchronous}")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    return sqlite_utils.Database(conn)


@contextmanager
def immediate(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction, taking the write lock up front.

    ``BEGIN IMMEDIATE`` rather than a deferred BEGIN: a deferred transaction
    that reads first and writes later can fail with SQLITE_BUSY on the upgrade
    when another process wrote meanwhile, and busy_timeout cannot help it.
    Holding the lock from the start also means event ``seq`` values are
    committed in the order they were allocated, which is what lets every
    consumer tail the log with ``seq > cursor`` and never skip a late commit.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")
