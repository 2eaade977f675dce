"""The kitchen over HTTP: the jobs the bridge sent to devices, and what a kitchen display needs.

``GET /api/v1/kitchen/jobs``: the tickets the bridge sent to kitchen devices,
and their fate. ``GET /api/v1/kitchen/tickets`` and ``POST /api/v1/kitchen/bumps``:
the open tickets of some stations, and a station's start / ready / recall,
for the kitchen display ``/kds`` (docs/screens.md). A bump over HTTP goes
through the same ``hub.orders.bumps.apply_bump`` as one over MQTT.
``GET /api/v1/kitchen/products`` and ``POST .../products/{id}/availability``:
the kitchen marks one of its items unavailable ("86") or back, through the
same catalogue change as a manager taking a product off sale, so the tills
hear it as ``catalog.updated``. Only kitchen items (a product with a station).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
import sqlite_utils
from litestar import get, post
from litestar.params import JSONBody, QueryParameter

from hub import mqtt_topics
from hub.auth.roles import PERMISSIONS
from hub.catalog import edits as catalog_service
from hub.catalog.models import Product
from hub.errors import Conflict, NotFound, ValidationFailed
from hub.kitchen_jobs import STATES, list_jobs
from hub.orders import repository
from hub.orders.bumps import Bump, BumpRefused, apply_bump
from hub.orders.commands import OrderRules
from hub.orders.models import KitchenTicket
from hub.web.api import pagination
from hub.web.api.context import Hub, requires
from hub.web.api.openapi import errors
from hub.web.api.operations_bodies import KitchenJobPage, StationList, StationProductList
from hub.web.api.response_bodies import KitchenTickets
from hub.web.api.schemas import UUID_PATTERN, PathId
from hub.web.screens.kitchen import (
    kitchen_item,
    known_stations,
    open_tickets,
    ready_stations,
    station_products,
)

KITCHEN_VIEW = PERMISSIONS["kitchen"]


@get(
    "/api/v1/kitchen/jobs",
    guards=[requires(*KITCHEN_VIEW)],
    tags=["kitchen"],
    responses=errors(403, 422, ok=KitchenJobPage),
)
async def list_kitchen_jobs(
    hub: Hub,
    state_filter: Annotated[
        str | None, QueryParameter(name="state", pattern="^(" + "|".join(STATES) + ")$")
    ] = None,
    station: Annotated[str | None, QueryParameter(max_length=64)] = None,
    limit: Annotated[int | None, QueryParameter(ge=1, le=pagination.MAX_LIMIT)] = None,
    after: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> dict[str, Any]:
    """Kitchen jobs, newest first; ``state`` is pending, sent, acked, failed or void."""
    size = pagination.check_limit(limit)
    before = pagination.decode("kj", after)
    items = await hub.store.read(
        list_jobs, state=state_filter, station=station, before=before, limit=size + 1
    )
    return pagination.page(items, size, "kj")


STATION_PATTERN = mqtt_topics.NAME.pattern
"""A station as devices are registered to it (``hub.devices``): one safe MQTT topic level.
Its own, shorter pattern here refused ``?station=`` for names of 33 to 64 characters
that a device could be registered to."""
Station = Annotated[str, msgspec.Meta(pattern=STATION_PATTERN)]
MAX_STATIONS = 16
_STATIONS_PARAMETER = QueryParameter(
    min_items=1,
    max_items=MAX_STATIONS,
    schema_extra={"items": {"type": "string", "pattern": STATION_PATTERN}},
)
"""``?station=`` once or more; the schema says what ``_stations`` checks of each."""


@get(
    "/api/v1/kitchen/tickets",
    guards=[requires(*KITCHEN_VIEW)],
    tags=["kitchen"],
    responses=errors(403, 422, ok=KitchenTickets),
)
async def kitchen_tickets(
    hub: Hub,
    station: Annotated[list[str], _STATIONS_PARAMETER],
) -> dict[str, Any]:
    """Open tickets of the stations (oldest first), their age thresholds, and the log head."""
    return await hub.store.read(open_tickets, hub.settings, hub.money, _stations(station))


@get(
    "/api/v1/kitchen/stations",
    guards=[requires(*KITCHEN_VIEW)],
    tags=["kitchen"],
    responses=errors(403, ok=StationList),
)
async def kitchen_stations(hub: Hub) -> dict[str, Any]:
    """The stations the catalogue sends lines to."""
    return {"items": await hub.store.read(known_stations)}


class BumpBody(msgspec.Struct, forbid_unknown_fields=True):
    order_uuid: Annotated[str, msgspec.Meta(pattern=UUID_PATTERN)]
    station: Station
    action: Annotated[str, msgspec.Meta(pattern="^(start|ready|recall)$")]


@post(
    "/api/v1/kitchen/bumps",
    status_code=200,
    guards=[requires(*KITCHEN_VIEW)],
    tags=["kitchen"],
    responses=errors(403, 404, 409, 413, 422, ok=KitchenTicket),
)
async def kitchen_bump(hub: Hub, data: JSONBody[BumpBody]) -> KitchenTicket:
    """A station starts, finishes (bumps) or recalls its part of an order; answers the order."""
    bump = Bump(order_uuid=data.order_uuid.lower(), action=data.action)  # type: ignore[arg-type]
    return await hub.store.write(_bump, hub.rules, data.station, bump)


def _bump(db: sqlite_utils.Database, rules: OrderRules, station: str, bump: Bump) -> KitchenTicket:
    try:
        apply_bump(db, rules, station, bump)
    except BumpRefused as exc:
        if exc.code == "unknown_order":
            raise NotFound(exc.message, exc.detail) from exc
        raise Conflict(exc.code, exc.message, exc.detail) from exc
    order_id = repository.order_id_by_uuid(db, bump.order_uuid)
    assert order_id is not None
    order = repository.get_order(db, rules.money, order_id)
    assert order is not None
    return KitchenTicket.of(order, ready_stations(db, order_id))


def _stations(station: list[str]) -> list[str]:
    """The stations asked for (the schema says at least one), each a station name: a bad one
    is a 422 naming the field, as any other parameter's."""
    stations = sorted(set(station))
    for name in stations:
        if not _STATION.fullmatch(name):
            raise ValidationFailed(
                f"{name!r} is not a station name", {"fields": {"station": "not a station name"}}
            )
    return stations


@get(
    "/api/v1/kitchen/products",
    guards=[requires(*KITCHEN_VIEW)],
    tags=["kitchen"],
    responses=errors(403, 422, ok=StationProductList),
)
async def kitchen_products(
    hub: Hub,
    station: Annotated[list[str], _STATIONS_PARAMETER],
) -> dict[str, Any]:
    """The stations' products and whether each is available (not 86'd)."""
    return {"items": await hub.store.read(station_products, _stations(station))}


class AvailabilityBody(msgspec.Struct, forbid_unknown_fields=True):
    available: bool


@post(
    "/api/v1/kitchen/products/{product_id:int}/availability",
    status_code=200,
    guards=[requires(*KITCHEN_VIEW)],
    tags=["kitchen"],
    responses=errors(403, 404, 413, 422, ok=Product),
)
async def kitchen_availability(
    hub: Hub,
    product_id: PathId,
    data: JSONBody[AvailabilityBody],
) -> Product:
    """86 a kitchen item (``available: false``) or put it back; the tills hear it at once."""
    if await hub.store.read(kitchen_item, product_id) is None:
        raise NotFound(f"product {product_id} is no kitchen item", {"product_id": product_id})
    change = await hub.catalog.apply(
        catalog_service.update_product, hub.money, product_id, active=data.available
    )
    assert change.product is not None
    return change.product


_STATION = re.compile(STATION_PATTERN)

ROUTES = [
    list_kitchen_jobs,
    kitchen_tickets,
    kitchen_stations,
    kitchen_bump,
    kitchen_products,
    kitchen_availability,
]
