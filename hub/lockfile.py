"""Lock files beside the database: ``flock``, never blocking (a wait polls on a clock).

Every EdgeHub process says "I have this database open" or "only one of me"
with a ``FileLock``: ``hub.instance`` (one bridge, one printer adapter per
device, one sync agent) and ``hub.db.occupancy`` (a restore refused while a
hub serves). The kernel drops a ``flock`` when its process dies, even by
SIGKILL, so a file left behind never keeps a restarted process out and no PID
file can go stale. Closing the descriptor releases it.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
from pathlib import Path

from hub.clock import Clock, now_iso
from hub.version import VERSION


def open_lock(path: Path) -> int:
    """A descriptor on the lock file ``path``, created (0600, and its directory) if new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def try_lock(fd: int, *, shared: bool = False) -> bool:
    """Take the exclusive (or shared) lock on ``fd`` if free; False if another process
    holds it in a way that excludes ours."""
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class FileLock:
    """One lock file: taken exclusive (naming its holder) or shared, waited for, let go.

    The descriptor is kept only while the lock is held; a refused try closes it,
    so an object that never got the lock holds nothing open.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_take(self, *, shared: bool = False, what: str | None = None) -> bool:
        """Take the lock if nobody holds it in a way that excludes us; True if held now.

        An exclusive holder given ``what`` writes the record read back by
        ``hub.instance.read_holder`` (and ``edgehub status``), five lines:
        pid, host, version, since, ``what``.
        """
        if self._fd is not None:
            return True
        fd = open_lock(self.path)
        if not try_lock(fd, shared=shared):
            os.close(fd)
            return False
        if what is not None and not shared:
            os.ftruncate(fd, 0)
            record = [str(os.getpid()), socket.gethostname(), VERSION, now_iso(), what]
            os.write(fd, ("\n".join(record) + "\n").encode())
        self._fd = fd
        return True

    async def take(
        self,
        *,
        clock: Clock,
        poll: float,
        shared: bool = False,
        what: str | None = None,
        give_up_after: float | None = None,
        stop: asyncio.Event | None = None,
    ) -> bool:
        """Try every ``poll`` seconds until the lock is ours (True), or until
        ``give_up_after`` seconds have passed or ``stop`` is set (False)."""
        deadline = None if give_up_after is None else clock.monotonic() + give_up_after
        while not self.try_take(shared=shared, what=what):
            if stop is not None and stop.is_set():
                return False
            if deadline is not None and clock.monotonic() > deadline:
                return False
            await _sleep_unless(clock, poll, stop)
        return True

    def release(self) -> None:
        """Let the lock go: closing the descriptor drops the ``flock``."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


async def _sleep_unless(clock: Clock, seconds: float, stop: asyncio.Event | None) -> None:
    """``clock.sleep(seconds)``, cut short when ``stop`` is set."""
    if stop is None:
        await clock.sleep(seconds)
        return
    waits = {asyncio.ensure_future(clock.sleep(seconds)), asyncio.ensure_future(stop.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
