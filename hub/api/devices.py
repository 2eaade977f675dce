"""``GET /api/v1/devices``: kitchen devices with their last reported status.

Thin on purpose: the listing is ``hub.devices.list_devices``, so other kinds of
presence (WebSocket clients) can join the same answer without touching this.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import Parameter

from hub.api import pagination
from hub.api.context import HubContext, requires
from hub.devices import list_devices

DEVICE_VIEW = ("kitchen", "manager", "admin", "device")


@get("/api/v1/devices", guards=[requires(*DEVICE_VIEW)], tags=["devices"])
async def get_devices(
    hub: HubContext,
    limit: Annotated[int | None, Parameter(ge=1, le=pagination.MAX_LIMIT)] = None,
    after: Annotated[str | None, Parameter(max_length=128)] = None,
) -> dict[str, Any]:
    """Devices by id: ``id, kind, station, role, online, last_seen, paper, pending_jobs``..."""
    size = pagination.check_limit(limit)
    start = pagination.decode_key("dv", after)
    items = await hub.store.read(list_devices, after=start, limit=size + 1)
    more = len(items) > size
    items = items[:size]
    return {"items": items, "next": pagination.encode_key("dv", items[-1]["id"]) if more else None}


ROUTES = [get_devices]
