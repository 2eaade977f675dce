"""``GET /api/v1/devices``: every device of the store, whichever way it is connected.

Two registries answer together, merged by id: kitchen devices on MQTT
(``hub.devices.list_devices``, with their last reported paper and cover and
their open jobs) and the terminals and displays connected over WebSocket now
(``hub.web.realtime.presence``, on every worker of this hub). Each item keeps
API.md's fields (``id, kind, station, online, last_seen, paper,
pending_jobs``) and may add its own.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter

from hub.devices import list_devices
from hub.web.api import pagination
from hub.web.api.context import ALL_STAFF, Hub, requires
from hub.web.api.openapi import errors
from hub.web.api.operations_bodies import DevicePage
from hub.web.realtime.server import Realtime


@get(
    "/api/v1/devices",
    guards=[requires(*ALL_STAFF)],
    tags=["devices"],
    responses=errors(403, 422, ok=DevicePage),
)
async def get_devices(
    request: Request[Any, Any, Any],
    hub: Hub,
    limit: Annotated[int | None, QueryParameter(ge=1, le=pagination.MAX_LIMIT)] = None,
    after: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> dict[str, Any]:
    """Devices by id: kitchen devices and connected terminals and displays."""
    size = pagination.check_limit(limit)
    start = pagination.decode_key("dv", after)
    mqtt = await hub.store.read(list_devices, after=start, limit=size + 1)
    realtime: Realtime = request.app.state.realtime
    connected = [d for d in realtime.presence.snapshot() if start is None or d["id"] > start]
    return pagination.page(sorted([*mqtt, *connected], key=lambda d: d["id"]), size, "dv")


ROUTES = [get_devices]
