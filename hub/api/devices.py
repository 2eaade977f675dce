"""``GET /api/v1/devices``: the terminals and displays connected to the hub now.

Today the list holds WebSocket clients (``hub.realtime.presence``), on every
worker of this hub. MQTT printers and kitchen displays are meant to join the
same list from their own registry; each item keeps API.md's fields (``id,
kind, station, online, last_seen, paper, pending_jobs``) and may add its own.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import Parameter

from hub.api import pagination
from hub.api.context import ALL_STAFF, requires
from hub.errors import ValidationFailed
from hub.realtime.service import Realtime


def _cursor(device_id: str) -> str:
    return base64.urlsafe_b64encode(f"d:{device_id}".encode()).decode().rstrip("=")


def _after(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, device_id = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind != "d":
            raise ValueError(kind)
        return device_id
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ValidationFailed(
            "after is not a cursor this list gave out", {"fields": {"after": "invalid cursor"}}
        ) from exc


@get("/api/v1/devices", guards=[requires(*ALL_STAFF)], tags=["devices"])
async def list_devices(
    request: Request[Any, Any, Any],
    limit: Annotated[int | None, Parameter(ge=1, le=pagination.MAX_LIMIT)] = None,
    after: Annotated[str | None, Parameter(max_length=200)] = None,
) -> dict[str, Any]:
    """Devices by id: online ones, then the last ones seen going offline."""
    size = pagination.check_limit(limit)
    start = _after(after)
    realtime: Realtime = request.app.state.realtime
    items = [d for d in realtime.presence.snapshot() if start is None or d["id"] > start]
    more = len(items) > size
    items = items[:size]
    return {"items": items, "next": _cursor(items[-1]["id"]) if more else None}


ROUTES = [list_devices]
