"""Noticing, cheaply and soon, that another process committed to the shared database.

The event log is tailed by reading ``seq > cursor``; the question is only when
to look. In WAL mode every commit appends frames to the ``-wal`` file, so its
size or modification time changes with each one (a checkpoint that restarts
the file changes them too). A ``stat`` every few milliseconds costs about a
microsecond and no database work, where a query would need a reader thread.
It is a hint, never the truth: a missed or spurious change only means one read
too late (bounded by ``fallback``) or one read for nothing.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

POLL_SECONDS = 0.005
FALLBACK_SECONDS = 0.5


class LogWatch:
    """Waits until the database file's WAL looks different from the last time."""

    def __init__(
        self, db: Path, *, poll: float = POLL_SECONDS, fallback: float = FALLBACK_SECONDS
    ) -> None:
        self.wal = db.with_name(db.name + "-wal")
        self.poll = poll
        self.fallback = fallback
        self._seen = self._signature()

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.wal)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    async def changed(self) -> None:
        """Return once the WAL changed since the last return, or after ``fallback`` seconds."""
        deadline = time.monotonic() + self.fallback
        while time.monotonic() < deadline:
            signature = self._signature()
            if signature != self._seen:
                self._seen = signature
                return
            await asyncio.sleep(self.poll)
        self._seen = self._signature()
