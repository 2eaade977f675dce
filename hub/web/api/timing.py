"""HTTP latency by route template, with the status the client really got.

Litestar's own Prometheus middleware sits inside the exception handler, so a
401 from the JWT middleware, or any 4xx raised by a handler, passes it as an
exception and is counted as a 200. Here a middleware only notes when the
request reached its route, and the ``before_send`` hook, which sees the final
``http.response.start`` whoever produced it, observes the time to that first
byte under the route's template (``/api/v1/orders/{order_id:int}``, never one
series per order id).
"""

from __future__ import annotations

import time
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from hub.metrics import Metrics

_T0 = "edgehub.t0"


class RouteTimer(ASGIMiddleware):
    """Stamps the time a request reached its route."""

    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = ("^/metrics$",)  # a scrape should not change what it reads

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope.setdefault("state", {})[_T0] = time.perf_counter()
        await next_app(scope, receive, send)


def http_observer(metrics: Metrics) -> Any:
    """A ``before_send`` hook observing every timed request once, at its response start."""

    async def observe(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        t0 = scope.get("state", {}).pop(_T0, None)
        if t0 is None:
            return
        route = str(scope.get("path_template") or "unmatched")
        method = str(scope.get("method", "GET"))
        metrics.observe_http(method, route, message["status"], time.perf_counter() - t0)

    return observe
