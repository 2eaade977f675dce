"""The sd_notify client against a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path

import pytest

from hub import sdnotify
from tests.support.notify_socket import received


def test_ready_reaches_the_manager(manager: socket.socket) -> None:
    """Without READY=1 systemd times out a Type=notify unit and kills it."""
    assert sdnotify.ready() is True
    assert manager.recv(4096) == b"READY=1"


def test_abstract_namespace_socket_is_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    """systemd may hand out '@name' addresses, which live in the abstract namespace."""
    name = f"edgehub-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert sdnotify.stopping() is True
        assert sock.recv(4096) == b"STOPPING=1"


def test_status_is_kept_on_one_line(manager: socket.socket) -> None:
    """A newline inside STATUS= would start a new, bogus assignment."""
    assert sdnotify.status("db ok\nmqtt down")
    assert manager.recv(4096) == b"STATUS=db ok mqtt down"


def test_unset_socket_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same processes run outside systemd (scripts/run, tests) and must not fail there."""
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False
    assert sdnotify.watchdog_ping() is False


def test_unreachable_socket_returns_false(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A vanished manager socket must not crash the hub it was meant to supervise."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    assert sdnotify.ready() is False


def test_watchdog_interval_comes_from_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    """WatchdogSec=30s arrives as WATCHDOG_USEC=30000000; misreading it gets the hub killed."""
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 30.0


def test_watchdog_meant_for_another_process_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that inherited the environment must not ping on its parent's behalf."""
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert sdnotify.watchdog_interval() is None


def test_no_watchdog_without_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without WatchdogSec= there is nothing to ping, so the task must end at once."""
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.watchdog_interval() is None
    asyncio.run(asyncio.wait_for(sdnotify.watchdog_task(), timeout=1))


def test_watchdog_task_pings_at_half_the_interval(
    manager: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pings must arrive well inside WatchdogSec, or systemd restarts a healthy hub."""
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))

    async def run_for(seconds: float) -> None:
        task = asyncio.create_task(sdnotify.watchdog_task())
        await asyncio.sleep(seconds)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    # 0.2 s interval: pings at 0, 0.1, 0.2, 0.3 s; a task pinging once per
    # interval would manage two at most.
    asyncio.run(run_for(0.35))
    pings = received(manager)
    assert pings[0] == "WATCHDOG=1"
    assert set(pings) == {"WATCHDOG=1"}
    assert len(pings) >= 3
