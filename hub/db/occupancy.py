"""Who has the database open for business: a shared ``flock`` beside the file.

Every ``edgehub serve`` holds a shared lock on ``<db>.lock`` for its lifetime;
``edgehub restore`` asks for the exclusive lock and so learns, without any PID
file to go stale, whether a hub is running: the kernel drops a dead process's
lock, even after SIGKILL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from hub import instance, lockfile
from hub.clock import SYSTEM_CLOCK, Clock
from hub.settings import Settings

POLL_SECONDS = 0.2  # how often a hub starting during a restore looks again


def lock_path(settings: Settings) -> Path:
    return settings.store.db.with_name(settings.store.db.name + ".lock")


@contextlib.asynccontextmanager
async def held_open(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> AsyncIterator[None]:
    """Hold the shared lock while serving; waits for a restore in progress to end
    (``timing.restore_wait_seconds`` at most)."""
    lock = lockfile.FileLock(lock_path(settings))
    try:
        waited = await lock.take(
            shared=True,
            clock=clock,
            poll=POLL_SECONDS,
            give_up_after=settings.timing.restore_wait_seconds,
        )
        if not waited:
            raise RuntimeError(f"{settings.store.db} is being restored; not serving it")
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def exclusive(settings: Settings, *, force: bool = False) -> Iterator[bool]:
    """Take the exclusive lock for a restore; yields whether a hub was holding it.

    Without ``force`` a held lock raises ``InUse``; with it, the restore goes on
    beside the running hub and the caller is told so.
    """
    lock = lockfile.FileLock(lock_path(settings))
    try:
        busy = not lock.try_take()
        if busy and not force:
            raise InUse(f"{settings.store.db} is open in {'; '.join(holders(settings))}")
        yield busy
    finally:
        lock.release()


class InUse(Exception):
    """An EdgeHub process (serve, bridge, printer, sync) has the database open."""


def holders(settings: Settings) -> list[str]:
    """Who has the database open, as far as the daemons' lock files tell; ``edgehub
    serve`` keeps none (several workers may serve one file), so it is named when no
    lock file names anyone."""
    found = []
    for path in sorted(settings.store.db.parent.glob(f"{settings.store.db.name}.*.lock")):
        name = path.name[len(settings.store.db.name) + 1 : -len(".lock")]
        holder = instance.running(path)
        if holder is not None:
            what = holder.what if holder.what != "?" else f"edgehub {name}"
            found.append(f"{what} (pid {holder.pid})")
    return found or ["an EdgeHub process (edgehub serve, bridge, printer or sync)"]
