"""Security headers on every HTTP answer, errors and 404s included.

A ``before_send`` hook rather than a per-route setting, because it must also
cover what no route handler produced (401 from the JWT middleware, 404, 413).
The API is JSON for tills, never a page to frame or cache: answers say
``nosniff``, may not be framed, leak no referrer, and are not stored by any
cache (an order or a token in a shared proxy's cache is a leak).
"""

from __future__ import annotations

from litestar.types import Message, Scope

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_RAW = [
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in SECURITY_HEADERS.items()
]


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Add each header unless the handler chose its own value.

    On the raw ASGI list, encoded once: setting five headers one by one
    through ``MutableScopeHeaders`` scans the list each time, on every answer.
    """
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", ()))
    present = {bytes(name).lower() for name, _ in headers}
    headers.extend(pair for pair in _RAW if pair[0] not in present)
    message["headers"] = headers


class AllowHeader:
    """``Allow`` on an ``OPTIONS`` answer names every method of the path (RFC 9110).

    Litestar 2 builds the answer when the path's first handler is registered and does
    not update it when another module adds a method to the same path (litestar#4169,
    fixed in Litestar 3): ``OPTIONS /api/v1/orders/{id}`` said ``OPTIONS, PATCH`` but
    not ``GET``. The methods are read once from the app's routes, after they are all in.
    """

    def __init__(self) -> None:
        self._by_path: dict[str, bytes] | None = None

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        handler = scope.get("route_handler")
        if handler is None:
            return
        if self._by_path is None:
            self._by_path = {
                path: ", ".join(sorted(methods)).encode("latin-1")
                for path, methods in scope["litestar_app"].route_handler_method_map.items()
            }
        allow = next((self._by_path[p] for p in handler.paths if p in self._by_path), None)
        if allow is None:
            return
        given = list(message.get("headers", ()))
        kept = [(k, v) for k, v in given if bytes(k).lower() != b"allow"]
        if len(kept) != len(given):  # Litestar's OPTIONS handler said Allow: correct it
            message["headers"] = [*kept, (b"allow", allow)]
