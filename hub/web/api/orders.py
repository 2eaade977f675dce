"""Orders over HTTP: create (idempotent by uuid), edit drafts, fire transitions, read, list."""

from __future__ import annotations

from operator import attrgetter
from typing import Annotated, Any

import msgspec
import sqlite_utils
from litestar import Request, Response, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from hub.auth.roles import PERMISSIONS
from hub.auth.users import Actor
from hub.cache import SESSION
from hub.catalog.edits import Touched
from hub.catalog.gateway import stock_moved
from hub.errors import Forbidden, NotFound, Unauthorized
from hub.orders import commands, repository
from hub.orders.machine import EVENTS, STATES
from hub.orders.models import Order
from hub.web.api import pagination
from hub.web.api.auth import check_credentials
from hub.web.api.context import ALL_STAFF, Caller, Hub, HubContext, requires
from hub.web.api.openapi import errors
from hub.web.api.response_bodies import OrderPage
from hub.web.api.schemas import (
    CreateOrderBody,
    Credentials,
    PatchOrderBody,
    PathId,
    QueryId,
    TransitionBody,
    to_line_inputs,
    to_payment_inputs,
)

_TILL = PERMISSIONS["till"]


async def _approver(
    request: Request[Any, Any, Any],
    hub: HubContext,
    actor: Actor,
    approval: Credentials | None,
) -> Actor | None:
    """Who approves a manual price: the caller if a manager, else the credentials given,
    checked (throttled and audited) exactly as a login is."""
    if approval is None:
        return actor if actor.is_manager else None
    approver = await check_credentials(request, hub, approval, purpose="approval")
    if approver is None:
        raise Unauthorized("the approving manager's login or PIN is wrong")
    if not approver.is_manager:
        raise Forbidden(f"{approver.name} is not a manager and cannot approve overrides")
    return approver


@post(
    "/api/v1/orders",
    guards=[requires(*_TILL)],
    tags=["orders"],
    responses=errors(403, 404, 409, 413, 422, 429, ok=Order, ok_statuses=(201, 200)),
)
async def create_order(
    request: Request[Any, Any, Any], hub: Hub, actor: Caller, data: JSONBody[CreateOrderBody]
) -> Response[Order]:
    """Create a draft order. The same uuid and body again answers 200 with the same order."""
    lines = to_line_inputs(hub.money, data.lines)
    body = msgspec.to_builtins(data)
    body.pop("approval", None)  # credentials never enter the stored fingerprint
    approver = await _approver(request, hub, actor, data.approval)
    order, created = await hub.store.write(
        commands.create_order,
        hub.rules,
        actor,
        uuid=data.uuid.lower(),
        session_id=data.session_id,
        lines=lines,
        note=data.note,
        fingerprint=commands.body_hash(body),
        approver=approver,
    )
    if created:  # the session's order count moved; its cached copy goes
        await hub.cache.invalidate(SESSION, [str(data.session_id)])
    return Response(order, status_code=201 if created else 200)


@patch(
    "/api/v1/orders/{order_id:int}",
    guards=[requires(*_TILL)],
    tags=["orders"],
    responses=errors(403, 404, 409, 413, 422, 429, ok=Order),
)
async def patch_order(
    request: Request[Any, Any, Any],
    hub: Hub,
    actor: Caller,
    order_id: PathId,
    data: JSONBody[PatchOrderBody],
) -> Order:
    """Replace the lines (and note) of a draft order."""
    lines = to_line_inputs(hub.money, data.lines)
    approver = await _approver(request, hub, actor, data.approval)
    return await hub.store.write(
        commands.replace_lines,
        hub.rules,
        actor,
        order_id,
        lines,
        note=data.note,
        approver=approver,
    )


@get(
    "/api/v1/orders/{order_id:int}",
    guards=[requires(*ALL_STAFF)],
    tags=["orders"],
    responses=errors(403, 404, 422, ok=Order),
)
async def get_order(hub: Hub, order_id: PathId) -> Order:
    order = await hub.store.read(repository.get_order, hub.money, order_id)
    if order is None:
        raise NotFound(f"order {order_id} does not exist", {"order_id": order_id})
    return order


def _list_orders(
    db: Any, hub: HubContext, limit: int, before: int | None, session_id: int | None, state: str
) -> list[Order]:
    ids = repository.list_ids(
        db, limit=limit, before=before, session_id=session_id, state=state or None
    )
    orders = [repository.get_order(db, hub.money, i) for i in ids]
    return [o for o in orders if o is not None]


@get(
    "/api/v1/orders",
    guards=[requires(*ALL_STAFF)],
    tags=["orders"],
    responses=errors(403, 422, ok=OrderPage),
)
async def list_orders(
    hub: Hub,
    session_id: QueryId = None,
    state_filter: Annotated[
        str | None, QueryParameter(name="state", pattern="^(" + "|".join(STATES) + ")$")
    ] = None,
    limit: Annotated[int | None, QueryParameter(ge=1, le=pagination.MAX_LIMIT)] = None,
    after: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> OrderPage:
    """Orders, newest first."""
    size = pagination.check_limit(limit)
    before = pagination.decode("o", after)
    items = await hub.store.read(
        _list_orders, hub, size + 1, before, session_id, state_filter or ""
    )
    return OrderPage(*pagination.cut(items, size, "o", attrgetter("id")))


@post(
    "/api/v1/orders/{order_id:int}/{event:str}",
    status_code=200,
    guards=[requires(*ALL_STAFF)],
    tags=["orders"],
    responses=errors(403, 404, 409, 413, 422, ok=Order),
)
async def fire_event(
    hub: Hub,
    actor: Caller,
    order_id: PathId,
    event: Annotated[
        str,
        PathParameter(
            description="one of: " + ", ".join(EVENTS), schema_extra={"enum": list(EVENTS)}
        ),
    ],
    data: JSONBody[TransitionBody | None] = None,
) -> Order:
    """Run one transition (validate, pay, start, ready, recall, complete, invoice, cancel)."""
    body = data or TransitionBody()  # an optional body left out, or sent as JSON null
    payments = to_payment_inputs(hub.money, body.payments) if body.payments else None
    order, moved = await hub.store.write(
        _transition, hub.rules, actor, order_id, event, payments, body.reason
    )
    if moved.products:
        await hub.catalog.forget(moved)
    return order


def _transition(
    db: sqlite_utils.Database,
    rules: commands.OrderRules,
    actor: Actor,
    order_id: int,
    event: str,
    payments: list[commands.PaymentInput] | None,
    reason: str | None,
) -> tuple[Order, Touched]:
    """The transition, and the stock-tracked products whose cached quantity it made stale."""
    order = commands.transition(db, rules, actor, order_id, event, payments=payments, reason=reason)
    if event not in ("pay", "cancel"):
        return order, Touched()
    return order, stock_moved(db, (line.product_id for line in order.lines))


ROUTES = [create_order, patch_order, get_order, list_orders, fire_event]
