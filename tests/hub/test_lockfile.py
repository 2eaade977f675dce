"""The lock files every process takes (``hub.lockfile``): one holder, named, gone on release.

``flock`` belongs to an open file description, so two opens in this one test
process contend exactly as two processes would.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from cloud_sync.daemon import agent_lock
from hub import instance, lockfile
from hub.clock import SYSTEM_CLOCK
from hub.settings import Settings
from tests.support.clock import ManualClock


def test_an_exclusive_lock_has_one_holder_who_is_named(tmp_path: Path) -> None:
    """The second taker is refused and reads who holds it; after release it gets in."""
    path = tmp_path / "state" / "edgehub.db.bridge.lock"
    first = lockfile.FileLock(path)
    assert first.try_take(what="the kitchen bridge of store demo")
    assert (path.stat().st_mode & 0o777) == 0o600
    second = lockfile.FileLock(path)
    assert not second.try_take(what="another bridge")
    assert not second.held
    holder = instance.running(path)
    assert holder is not None
    assert (holder.pid, holder.what) == (str(os.getpid()), "the kitchen bridge of store demo")
    first.release()
    assert instance.running(path) is None
    assert second.try_take(what="the kitchen bridge of store demo")
    second.release()


def test_shared_holders_keep_the_exclusive_taker_out(tmp_path: Path) -> None:
    """Serving hubs share the database; a restore waits for all of them to let go."""
    path = tmp_path / "edgehub.db.lock"
    first, second, restore = (lockfile.FileLock(path) for _ in range(3))
    assert first.try_take(shared=True)
    assert second.try_take(shared=True)
    assert not restore.try_take()
    first.release()
    assert not restore.try_take()
    second.release()
    assert restore.try_take()
    restore.release()


def test_a_wait_for_the_lock_polls_on_the_clock_and_ends_at_the_deadline(tmp_path: Path) -> None:
    """A hub starting during a restore gives up after its wait, timed on the clock it is given."""
    path = tmp_path / "edgehub.db.lock"
    restore = lockfile.FileLock(path)
    assert restore.try_take()
    clock = ManualClock()
    waiter = lockfile.FileLock(path)
    taken = asyncio.run(waiter.take(shared=True, clock=clock, poll=0.2, give_up_after=30.0))
    assert not taken and not waiter.held
    assert sum(clock.slept) == pytest.approx(30.0, abs=0.25)  # polled until the deadline
    assert set(clock.slept) == {0.2}
    restore.release()
    assert asyncio.run(waiter.take(shared=True, clock=clock, poll=0.2, give_up_after=30.0))
    waiter.release()


def test_a_wait_for_the_lock_ends_when_the_daemon_is_told_to_stop(tmp_path: Path) -> None:
    """A sync agent waiting for an ``--once`` run stops at SIGTERM instead of waiting on."""
    path = tmp_path / "edgehub.db.sync.lock"
    once = instance.InstanceLock(path, "the sync agent")
    once.acquire()

    async def wait_then_stop() -> bool:
        stop = asyncio.Event()
        waiting = asyncio.create_task(
            instance.InstanceLock(path, "the sync agent").wait(stop, clock=SYSTEM_CLOCK, poll=60.0)
        )
        await asyncio.sleep(0.01)
        stop.set()
        return await asyncio.wait_for(waiting, 1.0)

    assert asyncio.run(wait_then_stop()) is False
    once.release()


def test_the_daemon_locks_refuse_a_second_copy_with_the_same_messages(tmp_path: Path) -> None:
    """The bridge's lock and the sync agent's lock are one InstanceLock, naming the holder."""
    bridge = instance.InstanceLock(tmp_path / "edgehub.db.bridge.lock", "the kitchen bridge")
    bridge.acquire()
    with pytest.raises(instance.AlreadyRunning, match=r"^the kitchen bridge already runs \(pid "):
        instance.InstanceLock(bridge.path, "the kitchen bridge").acquire()
    bridge.release()
    settings = Settings(db=tmp_path / "edgehub.db")
    with agent_lock(settings) as agent:
        assert agent.path == tmp_path / "edgehub.db.sync.lock"
        assert agent.try_acquire()
        other = agent_lock(settings)
        assert not other.try_acquire()
        assert other.holder().pid == str(os.getpid())
        assert other.holder().what == "the sync agent"
    with agent_lock(settings) as again:
        assert again.try_acquire()
