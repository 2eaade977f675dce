"""Noticing, cheaply and soon, that another process committed to the shared database.

The event log is tailed by reading ``seq > cursor``; the question is only when
to look. Asking SQLite every few milliseconds costs a reader-thread round trip
each time (~70 µs of CPU), most of them for nothing. In WAL mode every commit
updates the wal-index header at the start of the ``-shm`` file (its change
counter and last frame number, see sqlite.org/walformat.html), so reading
those 48 bytes with one ``pread`` tells whether anything was committed, for
about a microsecond and without touching the database. The ``-wal`` file's size
and time are checked too, for a database whose ``-shm`` is not there.

It is a hint, never the truth: a missed change only delays the next read of
the log until ``fallback`` seconds have passed, and a spurious one (a header
caught mid-update, a checkpoint) costs one read for nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

POLL_SECONDS = 0.005
FALLBACK_SECONDS = 0.25
WAL_INDEX_HEADER = 48
"""Bytes of the first copy of the wal-index header: iChange, mxFrame, salts, checksums."""

Signature = tuple[object, ...]


class LogWatch:
    """Waits until the database's WAL looks different from the last time it was asked."""

    def __init__(
        self, db: Path, *, poll: float = POLL_SECONDS, fallback: float = FALLBACK_SECONDS
    ) -> None:
        self.wal = db.with_name(db.name + "-wal")
        self.shm = db.with_name(db.name + "-shm")
        self.poll = poll
        self.fallback = fallback
        self._shm_fd: int | None = None
        self._shm_ino: int | None = None
        self._seen = self._signature()

    def _signature(self) -> Signature:
        try:
            st = os.stat(self.wal)
            wal: object = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            wal = None
        return (wal, self._wal_index_header())

    def _wal_index_header(self) -> bytes | None:
        try:
            ino = os.stat(self.shm).st_ino
            if self._shm_fd is None or ino != self._shm_ino:
                self.close()
                self._shm_fd = os.open(self.shm, os.O_RDONLY | os.O_CLOEXEC)
                self._shm_ino = ino
            return os.pread(self._shm_fd, WAL_INDEX_HEADER, 0)
        except OSError:
            return None

    async def changed(self) -> None:
        """Return once a commit may have happened since the last return, or after ``fallback``."""
        deadline = time.monotonic() + self.fallback
        while time.monotonic() < deadline:
            signature = self._signature()
            if signature != self._seen:
                self._seen = signature
                return
            await asyncio.sleep(self.poll)
        self._seen = self._signature()

    def close(self) -> None:
        if self._shm_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._shm_fd)
            self._shm_fd = None
