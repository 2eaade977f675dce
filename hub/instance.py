"""One copy of a daemon per database: an exclusive ``flock`` on a file that names its holder.

Two ``edgehub bridge`` processes for one store would take each other's MQTT
client id over and over; two printer adapters for one device would both print
every ticket. So ``bridge`` and ``printer`` take this lock before anything else
and refuse to start when it is held, naming the holder from the file. The
kernel drops the lock when its process dies, even by SIGKILL, so a stale file
never keeps a restarted daemon out. The file is beside the database because
that is the one directory every EdgeHub unit may write (systemd's
``StateDirectory=``); ``edgehub status`` reads the same files to say what runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hub import lockfile
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
    """``acquire()`` before starting, ``release()`` when done (or let the process end)."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what  # "the kitchen bridge of store demo", for messages
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning naming the process that has it."""
        fd = lockfile.hold(self.path, self.what)
        if fd is None:
            raise AlreadyRunning(self.path, read_holder(self.path, self.what))
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            lockfile.release(self._fd)
            self._fd = None


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
