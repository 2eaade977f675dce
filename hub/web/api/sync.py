"""Sync with head office over HTTP: the agent's status, and retrying a parked order.

The agent runs in its own process (``edgehub sync``); these routes read what
it recorded in SQLite and put parked rows back in its queue, which it picks
up on its next turn.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from litestar import get, post

from hub import events, sync_outbox
from hub import sync_status as status
from hub.settings import Settings
from hub.web.api.context import MANAGERS, Hub, requires
from hub.web.api.openapi import errors
from hub.web.api.operations_bodies import SyncItem, SyncStatus
from hub.web.api.schemas import PathId


@get(
    "/api/v1/sync/status",
    guards=[requires(*MANAGERS)],
    tags=["sync"],
    responses=errors(403, ok=SyncStatus),
)
async def sync_status(hub: Hub) -> dict[str, Any]:
    """Pending and parked orders, lag, last success and error, and whether Odoo answers."""
    return await hub.store.read(status.read, hub.settings)


@post(
    "/api/v1/sync/failed/{item_id:int}/retry",
    status_code=200,
    guards=[requires(*MANAGERS)],
    tags=["sync"],
    responses=errors(403, 404, 409, 422, ok=SyncItem),
)
async def retry_failed(hub: Hub, item_id: PathId) -> dict[str, Any]:
    """Queue a parked item again, once its cause is fixed; 409 if it is not parked."""
    return await hub.store.write(_retry, hub.settings, item_id)


def _retry(db: sqlite_utils.Database, settings: Settings, item_id: int) -> dict[str, Any]:
    item = sync_outbox.retry(db, item_id)
    events.append(db, "sync.status", status.summary(status.read(db, settings)), ["store"])
    return item


ROUTES = [sync_status, retry_failed]
