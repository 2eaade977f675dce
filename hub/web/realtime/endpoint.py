"""The routes of the realtime side: the ``/ws`` socket and its counters.

``/ws`` is a plain ASGI handler (see ``connection`` for why), excluded from
the JWT middleware on purpose: the middleware would refuse a connection
before accepting it, which a client sees as a bare HTTP 403. The session
accepts first, then checks the token itself and closes with 4401.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, asgi, get
from litestar.types import Receive, Scope, Send

from hub.web.api.context import MANAGERS, requires
from hub.web.api.openapi import errors
from hub.web.api.operations_bodies import RealtimeStats
from hub.web.realtime.server import Realtime

_UPGRADE: list[tuple[bytes, bytes]] = [
    (b"content-type", b"application/json"),
    (b"upgrade", b"websocket"),
]
_UPGRADE_BODY = b'{"error":"upgrade_required","message":"/ws is a WebSocket endpoint","detail":{}}'


@asgi("/ws", opt={"exclude_from_auth": True}, copy_scope=False)
async def ws(scope: Scope, receive: Receive, send: Send) -> None:
    """Events of the rooms a client joins, live and replayed (docs/realtime.md)."""
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 426, "headers": _UPGRADE})
        await send({"type": "http.response.body", "body": _UPGRADE_BODY, "more_body": False})
        return
    realtime: Realtime = scope["litestar_app"].state.realtime
    await realtime.serve(scope, receive, send)


@get(
    "/api/v1/realtime/stats",
    guards=[requires(*MANAGERS)],
    tags=["devices"],
    responses=errors(403, ok=RealtimeStats),
)
async def realtime_stats(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """This worker's WebSocket counters: clients, subscriptions, rooms, log position, Redis."""
    realtime: Realtime = request.app.state.realtime
    return realtime.stats()


ROUTES = [ws, realtime_stats]
