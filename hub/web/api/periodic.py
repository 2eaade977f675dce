"""``GET /api/v1/jobs``: each periodic job's last run, for managers and admins."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from hub.periodic.scheduler import read_status
from hub.web.api.context import MANAGERS, Hub, requires
from hub.web.api.openapi import errors
from hub.web.api.operations_bodies import JobList


@get(
    "/api/v1/jobs",
    guards=[requires(*MANAGERS)],
    tags=["operations"],
    responses=errors(403, ok=JobList),
)
async def list_jobs(request: Request[Any, Any, Any], hub: Hub) -> dict[str, Any]:
    """Every job: interval, last start and finish, outcome, duration, error, note, counts.

    ``running`` is what this process knows; the rest is shared by every worker.
    """
    rows = await hub.store.read(read_status)
    local = request.app.state.ops.scheduler.states
    for row in rows:
        state = local.get(row["name"])
        row["running"] = bool(state and state.running)
        row["exclusive"] = bool(state and state.job.exclusive)
    return {"items": rows, "next": None}


ROUTES = [list_jobs]
