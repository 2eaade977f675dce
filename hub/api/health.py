"""``GET /health``: 200 while the database works, with each dependency's state."""

from __future__ import annotations

import sqlite3
from typing import Any

from litestar import Response, get

from cloud_sync import status as sync_status
from hub.api.context import HubContext
from hub.health import Probes, db_check


@get("/health", tags=["health"])
async def health(hub: HubContext, probes: Probes) -> Response[dict[str, Any]]:
    try:
        db_status = await hub.store.read(db_check)
    except sqlite3.Error as exc:
        body = await probes.report(f"error: {exc.__class__.__name__}")
        body["status"] = "down"
        return Response(body, status_code=503)
    sync = await hub.store.read(sync_status.health, hub.settings)
    return Response(await probes.report(db_status, sync=sync), status_code=200)


ROUTES = [health]
