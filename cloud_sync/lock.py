"""One sync agent per database: a lock file beside the SQLite file.

Two agents on one database would push the same rows at the same time.
Odoo's dedupe would still keep each order once, but every batch would be
sent twice and half the answers would be "already there". So ``edgehub
sync`` (the service) and ``edgehub sync --once`` take an exclusive
``flock`` first. The kernel drops it when the process dies, even by
SIGKILL, so a restarted agent never waits for a dead one.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from hub import lockfile


class AgentLock:
    """``try_acquire()`` before syncing, ``release()`` (or leave the ``with``) after."""

    def __init__(self, db: Path) -> None:
        self.path = db.with_name(db.name + ".sync.lock")
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if no other agent holds it; True if this process now holds it."""
        if self._fd is not None:
            return True
        # The record hub.instance reads: pid, host, version, since, what (status shows it).
        self._fd = lockfile.hold(self.path, "the sync agent")
        return self._fd is not None

    def holder(self) -> str:
        """The pid written by whoever holds (or last held) the lock, for messages."""
        try:
            return self.path.read_text().split("\n", 1)[0].strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._fd is not None:
            lockfile.release(self._fd)
            self._fd = None

    def __enter__(self) -> AgentLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
