"""``GET /api/v1/kitchen/jobs``: the tickets the bridge sent to kitchen devices, and their fate."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import QueryParameter

from firmware_bridge.jobs import STATES, list_jobs
from hub.api import pagination
from hub.api.context import Hub, requires

KITCHEN_VIEW = ("kitchen", "manager", "admin", "device")


@get("/api/v1/kitchen/jobs", guards=[requires(*KITCHEN_VIEW)], tags=["kitchen"])
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


ROUTES = [list_kitchen_jobs]
