"""The printer adapter's memory of the jobs it handled, so a re-sent ticket prints once.

The hub re-sends a job until it hears an ack, and an ack can be lost (the
adapter, the broker or the bridge restarting at the wrong moment). So the
adapter must remember, across its own restarts, which ``job_id`` it printed.
A small SQLite file of its own does that; it is not the hub's database, as a
device's memory belongs to the device.

A job is marked ``printing`` before its bytes go to the printer and ``printed``
after. A job found ``printing`` was interrupted mid-way (the adapter died, or
the link broke while sending): it may be on paper, or half of it. It is printed
again with the REPRINT banner rather than dropped, since a missing ticket
costs a guest's meal and a duplicate marked REPRINT costs a glance.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

KEEP = 20_000
"""Jobs remembered; a few days of a busy kitchen, and re-sends stop within minutes."""


class SeenJobs:
    """``job_id`` → ``printing`` | ``printed``; safe to call from one thread at a time or more."""

    def __init__(self, path: Path, keep: int = KEEP) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen (job_id TEXT PRIMARY KEY, state TEXT NOT NULL, "
            "at REAL NOT NULL)"
        )
        self._db.execute(
            "DELETE FROM seen WHERE job_id NOT IN (SELECT job_id FROM seen ORDER BY at DESC "
            "LIMIT ?)",
            (keep,),
        )

    def get(self, job_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT state FROM seen WHERE job_id = ?", (job_id,)).fetchone()
        return str(row[0]) if row else None

    def mark(self, job_id: str, state: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO seen (job_id, state, at) VALUES (?, ?, ?) "
                "ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, at = excluded.at",
                (job_id, state, time.time()),
            )

    def forget(self, job_id: str) -> None:
        """Nothing reached the paper: the next send of this job prints it as new."""
        with self._lock:
            self._db.execute("DELETE FROM seen WHERE job_id = ?", (job_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
