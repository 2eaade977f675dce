"""The daemon kit (``hub.daemon``) the bridge, the printer adapter and the sync agent run on.

systemd is stood in for by a real AF_UNIX datagram socket at $NOTIFY_SOCKET;
the signals are real ones sent to this process; backoffs run on a
``ManualClock``, so a test reads how long a daemon would have waited instead
of waiting.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import pytest

from hub.daemon import Backoff, Lifetime, restarting, supervise
from hub.logs import get_logger
from tests.support.clock import ManualClock
from tests.support.notify_socket import received


def test_sigterm_cancels_the_body_after_ready_and_says_stopping(manager: socket.socket) -> None:
    """The bridge's ``finally`` (goodbye on MQTT, SQLite closed) runs before the process ends."""
    seen: list[str] = []

    async def body(life: Lifetime) -> None:
        life.started.set()
        try:
            await asyncio.sleep(0)  # supervise announces READY on its turn
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.Event().wait()
        finally:
            seen.append("cleaned up")

    asyncio.run(asyncio.wait_for(supervise(body, status="kitchen bridge for store demo"), 5))
    assert seen == ["cleaned up"]
    assert received(manager) == ["READY=1", "STATUS=kitchen bridge for store demo", "STOPPING=1"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler was taken away


def test_a_graceful_body_sees_stop_and_ends_its_turn(manager: socket.socket) -> None:
    """The sync agent is not cancelled mid-push: it notes "stopped" and returns by itself."""
    seen: list[str] = []

    async def body(life: Lifetime) -> None:
        life.ready()
        life.ready("syncing with odoo")  # READY once, however often it is said
        os.kill(os.getpid(), signal.SIGINT)
        await life.stop.wait()
        await asyncio.sleep(0.01)  # a last write, not cancelled
        seen.append("stopped")

    asyncio.run(asyncio.wait_for(supervise(body, graceful=True), 5))
    assert seen == ["stopped"]
    assert received(manager) == ["READY=1", "STATUS=syncing with odoo", "STOPPING=1"]


def test_a_body_that_fails_before_starting_fails_the_unit_without_ready(
    manager: socket.socket,
) -> None:
    """systemd must see the failure (and restart the unit), never a READY for a dead process."""

    async def body(life: Lifetime) -> None:
        raise RuntimeError("database is being restored")

    with pytest.raises(RuntimeError, match="being restored"):
        asyncio.run(supervise(body, status="printer p1 for station grill"))
    assert received(manager) == ["STOPPING=1"]


def test_the_watchdog_is_pinged_from_the_loop_once_started(
    manager: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hung loop stops the pings and gets restarted; a live one pings every half interval."""
    # Few pings: the manager's queue holds ten datagrams (net.unix.max_dgram_qlen).
    monkeypatch.setenv("WATCHDOG_USEC", "40000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))

    async def body(life: Lifetime) -> None:
        life.started.set()
        await asyncio.sleep(0.1)

    asyncio.run(supervise(body))
    messages = received(manager)
    assert messages[0] == "READY=1" and messages[-1] == "STOPPING=1"
    assert messages.count("WATCHDOG=1") >= 3


def test_a_failing_loop_restarts_on_the_backoff_without_sleeping() -> None:
    """Each failure is logged and waited out on the clock, doubling; a clean run resets it."""
    clock = ManualClock()
    outcomes: list[BaseException | None] = [
        *[RuntimeError("disk I/O error")] * 4,
        None,
        RuntimeError("disk I/O error"),
        asyncio.CancelledError(),
    ]

    async def step() -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    log = get_logger("edgehub.test.kit")
    backoff = Backoff(1.0, 4.0, jitter=False)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(
            restarting(step, backoff=backoff, log=log, event="loop_failed", clock=clock, loop="t")
        )
    assert clock.slept == [1.0, 2.0, 4.0, 4.0, 1.0]
    assert clock.monotonic() == 1_000.0 + 12.0
