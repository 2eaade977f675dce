"""``GET /metrics``: Prometheus text, unauthenticated (API.md), built from a cached snapshot."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.api.context import Hub


@get("/metrics", tags=["health"])
async def metrics(request: Request[Any, Any, Any], hub: Hub) -> Response[bytes]:
    ops = request.app.state.ops
    await ops.metrics.refresh(hub.store)
    return Response(
        generate_latest(ops.metrics.registry),
        media_type=CONTENT_TYPE_LATEST,
        status_code=200,
    )


ROUTES = [metrics]
