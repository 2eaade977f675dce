"""The outbox against a send that blocks like a full socket: order, bounds, give-up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.web.realtime.send_queue import Outbox

pytestmark = pytest.mark.anyio


class Socket:
    """An ASGI send whose transport can be made unwritable, as uvicorn's can."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.sent: list[str] = []
        self.gone = False

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()
        if self.gone:
            raise ConnectionResetError("peer gone")
        self.sent.append(message["text"])


def outbox(socket: Socket, limit: int = 4, stall: float = 5.0) -> tuple[Outbox, list[Any]]:
    verdicts: list[Any] = []
    box = Outbox(
        socket.send, limit=limit, stall_timeout=stall, on_give_up=lambda *v: verdicts.append(v)
    )
    return box, verdicts


async def test_a_writable_socket_gets_frames_at_once() -> None:
    """The common case costs no task: the frame is on the socket when push returns."""
    socket = Socket()
    box, _ = outbox(socket)
    assert box.push("a") and box.push("b")
    assert socket.sent == ["a", "b"]


async def test_order_is_kept_across_a_blocked_send() -> None:
    """Frames pushed while the socket is full go out after it drains, in order."""
    socket = Socket()
    box, verdicts = outbox(socket)
    socket.writable.clear()
    for frame in "abc":
        assert box.push(frame)
    assert socket.sent == [] and box.backlog == 2
    socket.writable.set()
    await asyncio.sleep(0.01)
    assert box.push("d")
    await asyncio.sleep(0.01)
    assert socket.sent == ["a", "b", "c", "d"]
    assert verdicts == []


async def test_overflow_gives_up_once_with_4408() -> None:
    """A client that falls `limit` frames behind is let go, and told why, exactly once."""
    socket = Socket()
    box, verdicts = outbox(socket, limit=4)
    socket.writable.clear()
    results = [box.push(str(i)) for i in range(8)]
    assert results == [True] * 5 + [False] * 3  # one in flight, four queued
    assert [v[0] for v in verdicts] == [4408]
    assert box.closed and box.backlog == 0


async def test_a_socket_that_takes_nothing_is_given_up_on() -> None:
    """A dead peer that never drains is dropped after the stall timeout, events or not."""
    socket = Socket()
    box, verdicts = outbox(socket, stall=0.05)
    socket.writable.clear()
    box.push("a")
    await asyncio.sleep(0.2)
    assert [v[0] for v in verdicts] == [4408]


async def test_close_cancels_a_blocked_send() -> None:
    """Closing must not wait for a client that will never read."""
    socket = Socket()
    box, _ = outbox(socket)
    socket.writable.clear()
    box.push("a")
    box.push("b")
    await asyncio.wait_for(box.aclose(), 1)
    socket.writable.set()
    await asyncio.sleep(0.01)
    assert socket.sent == [] and not box.push("c")


async def test_a_vanished_peer_closes_the_outbox_quietly() -> None:
    """A send failing because the peer left is not a slow client: no 4408."""
    socket = Socket()
    box, verdicts = outbox(socket)
    socket.gone = True
    assert not box.push("a")
    assert box.closed and verdicts == []


async def test_replay_waits_for_room_in_the_backlog() -> None:
    """A long replay paces itself on the client instead of overflowing it."""
    socket = Socket()
    box, verdicts = outbox(socket, limit=4)
    socket.writable.clear()
    for frame in "abcd":
        box.push(frame)
    waiter = asyncio.create_task(box.wait_for_space())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    socket.writable.set()
    await asyncio.wait_for(waiter, 1)
    assert verdicts == []
