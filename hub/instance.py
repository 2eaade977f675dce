"""One copy of a daemon per database: an exclusive ``flock`` on a file that names its holder.

Two ``edgehub bridge`` processes for one store would take each other's MQTT
client id over and over; two printer adapters for one device would both print
every ticket. So ``bridge`` and ``printer`` take this lock before anything else
and refuse to start when it is held, naming the holder from the file. The sync
agent takes one too (``cloud_sync.daemon.agent_lock``), and waits for an
``edgehub sync --once`` run to end rather than refusing. The
kernel drops the lock when its process dies, even by SIGKILL, so a stale file
never keeps a restarted daemon out. The file is beside the database because
that is the one directory every EdgeHub unit may write (systemd's
``StateDirectory=``); ``edgehub status`` reads the same files to say what runs.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from hub import lockfile
from hub.clock import Clock
from hub.settings import Settings


@dataclass(frozen=True, slots=True)
class Holder:
    """What the lock file says about the process that holds it (or last held it)."""

    pid: str
    host: str
    version: str
    since: str
    what: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, EdgeHub {self.version}, running since {self.since}"


class AlreadyRunning(Exception):
    """Another process holds the lock; ``holder`` says which."""

    def __init__(self, path: Path, holder: Holder) -> None:
        super().__init__(f"{holder.what} already runs ({holder.describe()}; lock {path})")
        self.path = path
        self.holder = holder


def lock_path(settings: Settings, name: str) -> Path:
    """``<db>.<name>.lock``: ``bridge``, ``printer-<device>``, ``sync``."""
    return settings.store.db.with_name(f"{settings.store.db.name}.{name}.lock")


class InstanceLock:
    """``acquire()`` before starting, ``release()`` when done (or leave the ``with``, or let
    the process end)."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what  # "the kitchen bridge of store demo", for messages
        self._lock = lockfile.FileLock(path)

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; True if this one holds it now."""
        return self._lock.try_take(what=self.what)

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning naming the process that has it."""
        if not self.try_acquire():
            raise AlreadyRunning(self.path, self.holder())

    async def wait(self, stop: asyncio.Event, *, clock: Clock, poll: float) -> bool:
        """Take the lock once its holder lets go; False if ``stop`` is set first."""
        return await self._lock.take(what=self.what, clock=clock, poll=poll, stop=stop)

    def holder(self) -> Holder:
        """Who holds (or last held) the lock, as its file says."""
        return read_holder(self.path, self.what)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def read_holder(path: Path, what: str = "?") -> Holder:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        lines = []
    lines += ["?"] * (5 - len(lines))
    return Holder(lines[0], lines[1], lines[2], lines[3], lines[4] if lines[4] != "?" else what)


def running(path: Path) -> Holder | None:
    """The holder of ``path`` if a live process holds it now, else None (a read, no lock kept)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        free = lockfile.try_lock(fd, shared=True)
    finally:
        os.close(fd)
    return None if free else read_holder(path)
