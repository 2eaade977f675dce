"""The lock files every process takes (``hub.lockfile``): one holder, named, gone on release.

``flock`` belongs to an open file description, so two opens in this one test
process contend exactly as two processes would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloud_sync.lock import AgentLock
from hub import instance, lockfile


def test_an_exclusive_lock_has_one_holder_who_is_named(tmp_path: Path) -> None:
    """The second taker is refused and reads who holds it; after release it gets in."""
    path = tmp_path / "state" / "edgehub.db.bridge.lock"
    fd = lockfile.hold(path, "the kitchen bridge of store demo")
    assert fd is not None
    assert (path.stat().st_mode & 0o777) == 0o600
    assert lockfile.hold(path, "another bridge") is None
    holder = instance.running(path)
    assert holder is not None
    assert (holder.pid, holder.what) == (str(os.getpid()), "the kitchen bridge of store demo")
    lockfile.release(fd)
    assert instance.running(path) is None
    again = lockfile.hold(path, "the kitchen bridge of store demo")
    assert again is not None
    lockfile.release(again)


def test_shared_holders_keep_the_exclusive_taker_out(tmp_path: Path) -> None:
    """Serving hubs share the database; a restore waits for all of them to let go."""
    path = tmp_path / "edgehub.db.lock"
    first, second, restore = (lockfile.open_lock(path) for _ in range(3))
    assert lockfile.try_lock(first, shared=True)
    assert lockfile.try_lock(second, shared=True)
    assert not lockfile.try_lock(restore)
    lockfile.release(first)
    assert not lockfile.try_lock(restore)
    lockfile.release(second)
    assert lockfile.try_lock(restore)
    lockfile.release(restore)


def test_the_daemon_locks_refuse_a_second_copy_with_the_same_messages(tmp_path: Path) -> None:
    """The instance lock and the sync agent's lock both go through the helper."""
    bridge = instance.InstanceLock(tmp_path / "edgehub.db.bridge.lock", "the kitchen bridge")
    bridge.acquire()
    with pytest.raises(instance.AlreadyRunning, match=r"^the kitchen bridge already runs \(pid "):
        instance.InstanceLock(bridge.path, "the kitchen bridge").acquire()
    bridge.release()
    db = tmp_path / "edgehub.db"
    with AgentLock(db) as agent:
        assert agent.try_acquire()
        other = AgentLock(db)
        assert not other.try_acquire()
        assert other.holder() == str(os.getpid())
    with AgentLock(db) as again:
        assert again.try_acquire()
