"""Lock files beside the database: ``flock``, asked for without waiting.

Every EdgeHub process says "I have this database open" or "only one of me"
with one of these: ``hub.instance`` (one bridge, one printer adapter per
device), ``cloud_sync.lock`` (one sync agent) and ``hub.db.occupancy`` (a
restore refused while a hub serves). The kernel drops a ``flock`` when its
process dies, even by SIGKILL, so a file left behind never keeps a restarted
process out and no PID file can go stale. Closing the descriptor releases it.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from hub.clock import now_iso
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


def hold(path: Path, what: str) -> int | None:
    """Take the exclusive lock on ``path`` and write who holds it; the descriptor, or None
    if another process holds it.

    The record is five lines, read back by ``hub.instance.read_holder`` (and
    ``edgehub status``): pid, host, version, since, ``what``.
    """
    fd = open_lock(path)
    if not try_lock(fd):
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    record = [str(os.getpid()), socket.gethostname(), VERSION, now_iso(), what]
    os.write(fd, ("\n".join(record) + "\n").encode())
    return fd


def release(fd: int) -> None:
    """Let the lock go: closing the descriptor drops the ``flock``."""
    os.close(fd)
