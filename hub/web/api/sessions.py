"""POS sessions over HTTP: open, read, close."""

from __future__ import annotations

from operator import attrgetter
from typing import Annotated

import msgspec
import sqlite_utils
from litestar import get, post
from litestar.params import JSONBody, QueryParameter

from hub import sessions
from hub.auth.roles import PERMISSIONS
from hub.auth.users import Actor
from hub.cache import SESSION
from hub.orders import commands
from hub.sessions import ClosedSession, Session
from hub.web.api import pagination
from hub.web.api.context import ALL_STAFF, Caller, Hub, requires
from hub.web.api.openapi import errors
from hub.web.api.response_bodies import SessionPage
from hub.web.api.schemas import (
    CloseSessionBody,
    OpenSessionBody,
    PathId,
    parse_amount,
)

_TILL = PERMISSIONS["till"]


@post(
    "/api/v1/sessions",
    guards=[requires(*_TILL)],
    tags=["sessions"],
    responses=errors(403, 409, 413, 422, ok=Session, ok_statuses=(201,)),
)
async def open_session(hub: Hub, actor: Caller, data: JSONBody[OpenSessionBody]) -> Session:
    cash = parse_amount(hub.money, "opening_cash", data.opening_cash)
    session = await hub.store.write(
        sessions.open_session, hub.money, actor, terminal=data.terminal, opening_cash=cash
    )
    await hub.cache.invalidate(SESSION, [str(session.id)])
    return session


@get(
    "/api/v1/sessions/{session_id:int}",
    guards=[requires(*ALL_STAFF)],
    tags=["sessions"],
    responses=errors(403, 404, 422, ok=Session),
)
async def get_session(hub: Hub, session_id: PathId) -> Session:
    """A session, cached until it changes: closing it, or an order taken in it, drops it."""

    async def load() -> Session:
        return await hub.store.read(sessions.get_session, hub.money, session_id)

    session: Session = await hub.cache.get_or_load(SESSION, str(session_id), load, shape=Session)
    return session


@post(
    "/api/v1/sessions/{session_id:int}/close",
    status_code=200,
    guards=[requires(*_TILL)],
    tags=["sessions"],
    responses=errors(403, 404, 409, 413, 422, ok=ClosedSession),
)
async def close_session(
    hub: Hub,
    actor: Caller,
    session_id: PathId,
    data: JSONBody[CloseSessionBody],
) -> ClosedSession:
    cash = parse_amount(hub.money, "closing_cash", data.closing_cash)
    session = await hub.store.write(
        _close, hub.rules, actor, session_id, cash, cancel_unpaid=data.cancel_unpaid
    )
    await hub.cache.invalidate(SESSION, [str(session_id)])
    return session


def _close(
    db: sqlite_utils.Database,
    rules: commands.OrderRules,
    actor: Actor,
    session_id: int,
    cash: int,
    *,
    cancel_unpaid: bool,
) -> ClosedSession:
    """Close the session, first cancelling its unpaid orders when asked; one transaction,
    so a refusal half-way (a role, a closed session) cancels nothing."""
    cancelled = []
    if cancel_unpaid:
        for order_id in sessions.unpaid_orders(db, session_id):
            commands.transition(db, rules, actor, order_id, "cancel", reason="session closed")
            cancelled.append(order_id)
    session = sessions.close_session(db, rules.money, actor, session_id, closing_cash=cash)
    return ClosedSession(**msgspec.structs.asdict(session), cancelled_orders=cancelled)


@get(
    "/api/v1/sessions",
    guards=[requires(*ALL_STAFF)],
    tags=["sessions"],
    responses=errors(403, 422, ok=SessionPage),
)
async def list_sessions(
    hub: Hub,
    state_filter: Annotated[
        str | None, QueryParameter(name="state", pattern="^(open|closed)$")
    ] = None,
    terminal: Annotated[str | None, QueryParameter(min_length=1, max_length=64)] = None,
    limit: Annotated[int | None, QueryParameter(ge=1, le=pagination.MAX_LIMIT)] = None,
    after: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> SessionPage:
    """Sessions, newest first; ``?state=open&terminal=till-1`` finds a till's open session."""
    size = pagination.check_limit(limit)
    before = pagination.decode("s", after)
    items = await hub.store.read(
        sessions.list_sessions,
        hub.money,
        state=state_filter,
        terminal=terminal,
        limit=size + 1,
        before=before,
    )
    return SessionPage(*pagination.cut(items, size, "s", attrgetter("id")))


ROUTES = [open_session, list_sessions, get_session, close_session]
