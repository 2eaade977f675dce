"""POS sessions over HTTP: open, read, close."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import JSONBody

from hub import sessions
from hub.api.context import ALL_STAFF, Caller, Hub, requires
from hub.api.schemas import (
    CloseSessionBody,
    OpenSessionBody,
    PathId,
    parse_amount,
    strict_body,
)
from hub.cache import SESSION

_TILL = ("cashier", "manager", "admin")


@post("/api/v1/sessions", guards=[requires(*_TILL)], tags=["sessions"])
async def open_session(
    request: Request[Any, Any, Any], hub: Hub, actor: Caller, data: JSONBody[OpenSessionBody]
) -> dict[str, Any]:
    data = await strict_body(request, OpenSessionBody)
    cash = parse_amount(hub.money, "opening_cash", data.opening_cash)
    session = await hub.store.write(
        sessions.open_session, hub.money, actor, terminal=data.terminal, opening_cash=cash
    )
    await hub.cache.invalidate(SESSION, [str(session["id"])])
    return session


@get("/api/v1/sessions/{session_id:int}", guards=[requires(*ALL_STAFF)], tags=["sessions"])
async def get_session(hub: Hub, session_id: PathId) -> dict[str, Any]:
    """A session, cached until it changes: closing it, or an order taken in it, drops it."""

    async def load() -> dict[str, Any]:
        return await hub.store.read(sessions.get_session, hub.money, session_id)

    session: dict[str, Any] = await hub.cache.get_or_load(SESSION, str(session_id), load)
    return session


@post(
    "/api/v1/sessions/{session_id:int}/close",
    status_code=200,
    guards=[requires(*_TILL)],
    tags=["sessions"],
)
async def close_session(
    request: Request[Any, Any, Any],
    hub: Hub,
    actor: Caller,
    session_id: PathId,
    data: JSONBody[CloseSessionBody],
) -> dict[str, Any]:
    data = await strict_body(request, CloseSessionBody)
    cash = parse_amount(hub.money, "closing_cash", data.closing_cash)
    session = await hub.store.write(
        sessions.close_session, hub.money, actor, session_id, closing_cash=cash
    )
    await hub.cache.invalidate(SESSION, [str(session_id)])
    return session


ROUTES = [open_session, get_session, close_session]
