"""A closed session is freed when it ends, not left to the cyclic collector.

Each connection holds uvicorn's protocol, its parser and our session; if any
reference cycle runs through the session, all of it waits for the collector's
next full pass, which walks every connection still open (the connect cost
that grew with the clients connected, issue 17).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from hub.auth.users import Actor
from hub.web.realtime.connection import Session
from hub.web.realtime.host import Limits, SignIn

pytestmark = pytest.mark.anyio


class Host:
    """Just enough of ``Realtime`` for a session to sign in, come online and go."""

    limits = Limits(queue_frames=64, silence_limit=1.0, auth_timeout=5.0)

    async def sign_in(self, token: str, connection: Any) -> SignIn | None:
        return SignIn(Actor(id=7, role="cashier", name="Ana"), None)

    def online(self, session: Any, device: Any, expires_at: float | None) -> None:
        pass

    def offline(self, session: Any, device: Any) -> None:
        pass


async def test_a_closed_session_leaves_no_garbage_cycle() -> None:
    """Signed in, then the peer goes: nothing of the session needs the collector."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for event in ({"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1001}):
        incoming.put_nowait(event)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "query_string": b"token=t", "headers": []}
    gc.collect()
    gc.disable()
    try:
        await asyncio.create_task(Session(Host(), scope, incoming.get, send).run())  # type: ignore[arg-type]
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, Session)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert sent[0] == {"type": "websocket.accept"}
    assert left == []
