"""``GET /metrics``: Prometheus text, unauthenticated (API.md), built from a cached snapshot."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, get
from prometheus_client import generate_latest

from hub.web.api.context import Hub
from hub.web.api.openapi import PUBLIC

# prometheus_client's CONTENT_TYPE_LATEST carries "; charset=utf-8" already, and
# Litestar adds one to every text/ type: a client then sees two.
MEDIA_TYPE = "text/plain; version=0.0.4"


@get("/metrics", tags=["health"], media_type=MediaType.TEXT, security=PUBLIC)
async def metrics(request: Request[Any, Any, Any], hub: Hub) -> Response[bytes]:
    ops = request.app.state.ops
    await ops.metrics.refresh(hub.store)
    return Response(
        generate_latest(ops.metrics.registry),
        media_type=MEDIA_TYPE,
        status_code=200,
    )


ROUTES = [metrics]
