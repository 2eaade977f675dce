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
