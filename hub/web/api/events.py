"""``GET /api/v1/events``: the log, for integrations (managers and admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import QueryParameter

from hub import events
from hub.web.api import pagination
from hub.web.api.context import MANAGERS, Hub, requires
from hub.web.api.openapi import errors
from hub.web.api.response_bodies import EventPage
from hub.web.api.schemas import MAX_ID


def _page(db: Any, since: int, limit: int) -> dict[str, Any]:
    rows = events.read_since(db, since, limit + 1)
    items = [e.as_public() for e in rows[:limit]]
    return {
        "items": items,
        "next": str(items[-1]["seq"]) if len(rows) > limit else None,
        "head": events.head(db),
    }


@get(
    "/api/v1/events",
    guards=[requires(*MANAGERS)],
    tags=["events"],
    responses=errors(403, 422, ok=EventPage),
)
async def list_events(
    hub: Hub,
    since: Annotated[int, QueryParameter(ge=0, le=MAX_ID)] = 0,
    after: Annotated[int | None, QueryParameter(ge=0, le=MAX_ID)] = None,
    limit: Annotated[int | None, QueryParameter(ge=1, le=pagination.MAX_LIMIT)] = None,
) -> dict[str, Any]:
    """Events with ``seq > since``, oldest first; ``next`` is the ``since`` of the next page."""
    start = after if after is not None else since
    return await hub.store.read(_page, start, pagination.check_limit(limit))


ROUTES = [list_events]
