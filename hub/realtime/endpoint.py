"""The routes of the realtime side: the ``/ws`` socket and its counters.

``/ws`` is excluded from the JWT middleware on purpose: the middleware would
refuse a connection before accepting it, which a client sees as a bare HTTP
403. The session accepts first, then checks the token itself and closes
with 4401.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, WebSocket, get, websocket

from hub.api.context import MANAGERS, requires
from hub.realtime.service import Realtime


@websocket("/ws", opt={"exclude_from_auth": True})
async def ws(socket: WebSocket[Any, Any, Any]) -> None:
    """Events of the rooms a client joins, live and replayed (docs/realtime.md)."""
    realtime: Realtime = socket.app.state.realtime
    await realtime.serve(socket)


@get("/api/v1/realtime/stats", guards=[requires(*MANAGERS)], tags=["devices"])
async def realtime_stats(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """This worker's WebSocket counters: clients, subscriptions, rooms, log position, Redis."""
    realtime: Realtime = request.app.state.realtime
    return realtime.stats()


ROUTES = [ws, realtime_stats]
