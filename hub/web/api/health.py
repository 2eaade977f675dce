"""``GET /health``: 200 while the database works, with each dependency's state."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import sqlite_utils
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from hub import backup, faults, sync_status
from hub.db.readiness import restore_advice
from hub.health import Probes, db_check
from hub.periodic.scheduler import read_status, stale
from hub.settings import Settings
from hub.version import VERSION
from hub.web.api.context import Hub
from hub.web.api.openapi import PUBLIC
from hub.web.api.response_bodies import Health


def _reads(
    db: sqlite_utils.Database, settings: Settings, redis: tuple[str, str | None] | None
) -> tuple[str, list[dict[str, Any]], sync_status.Health, list[faults.Fault]]:
    """Everything /health reads from SQLite, in one trip to a reader and one snapshot:
    the check itself, the jobs, the sync (its verdict and numbers from one reading)
    and the faults."""
    found = faults.with_known_since(db, faults.detect(db, settings, redis=redis))
    return db_check(db), read_status(db), sync_status.health(db, settings), found


def _jobs_detail(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "failing": [r["name"] for r in rows if r["outcome"] == "error"],
        "stale": [r["name"] for r in rows if stale(r)],
    }


def _backup_detail(hub: Hub) -> dict[str, Any]:
    try:
        newest = backup.list_backups(hub.settings)[-1:]
        if not newest:
            return {"newest": None}
        age = time.time() - newest[0].stat().st_mtime
    except OSError as exc:  # rotated away meanwhile, or the directory is unreadable
        return {"newest": None, "error": type(exc).__name__}
    return {"newest": newest[0].name, "age_seconds": round(age)}


@get(
    "/health",
    tags=["health"],
    security=PUBLIC,
    responses={
        200: ResponseSpec(data_container=Health, description="OK", generate_examples=False),
        503: ResponseSpec(
            data_container=Health,
            description="down: the database is unusable or damaged (the same body, status down)",
            generate_examples=False,
        ),
    },
)
async def health(hub: Hub, probes: NamedDependency[Probes]) -> Response[dict[str, Any]]:
    t0 = time.perf_counter()
    if hub.store.damage is not None:
        return await _damaged(hub, probes)
    try:
        redis = probes.redis_state() if probes.redis_state is not None else None
        db_status, jobs, sync, found = await hub.store.read(_reads, hub.settings, redis)
    except sqlite3.Error as exc:
        if hub.store.damage is not None:  # the read found it (Store.note_error)
            return await _damaged(hub, probes)
        body = await probes.report(f"error: {exc.__class__.__name__}")
        body["status"] = "down"
        body["version"] = VERSION
        return Response(body, status_code=503)
    latency = round((time.perf_counter() - t0) * 1000, 3)
    body = await probes.report(
        db_status, latency, sync=sync, jobs=_jobs_detail(jobs), backup=_backup_detail(hub)
    )
    body["version"] = VERSION
    # What is wrong and since when, each in a sentence (hub.faults); any makes it degraded.
    body["faults"] = [fault.as_dict() for fault in found]
    if found:
        body["status"] = "degraded"
    return Response(body, status_code=200)


async def _damaged(hub: Hub, probes: Probes) -> Response[dict[str, Any]]:
    """503 until the damaged database is restored and the hub restarted."""
    body = await probes.report("damaged")
    body["status"] = "down"
    body["detail"]["db"] = {
        "status": "damaged",
        "error": hub.store.damage,
        "action": restore_advice(hub.settings),
    }
    return Response(body, status_code=503)


ROUTES = [health]
