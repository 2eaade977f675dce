"""The one place where errors become HTTP answers, all in API.md's single shape.

``{"error": <stable code>, "message": <for people>, "detail": {...}}``. Our own
``HubError`` tree carries its code; Litestar's exceptions (bad JSON, schema
mismatch, 401 from the JWT middleware, 404 route, 405, 413) are translated
here, and so is JSON nested past the decoder's depth (a ``RecursionError``
from msgspec, reachable without a token): 400, one warning line, no traceback.
Anything else is a bug: logged with its traceback, answered 500 without
internals.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from hub.db.readiness import is_corruption
from hub.errors import HubError
from hub.logs import get_logger

log = get_logger("edgehub.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(
    status: int,
    code: str,
    message: str,
    detail: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    headers = dict(headers or {})
    if status == 429 and detail and "retry_after" in detail:
        headers["Retry-After"] = str(detail["retry_after"])
    return Response(
        {"error": code, "message": message, "detail": detail or {}},
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def hub_error(_: Request[Any, Any, Any], exc: HubError) -> Response[dict[str, Any]]:
    return error_response(exc.status, exc.code, exc.message, exc.detail)


_MISSING_PARAMETER = re.compile(r"Missing required \w+ parameter '(?P<name>[^']+)'")
"""How Litestar says a required (query) parameter is absent; it gives no ``extra``."""


def validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    """Schema mismatches are 422 with the failing fields; undecodable bodies are 400."""
    missing = _MISSING_PARAMETER.match(str(exc.detail))
    if missing:  # a required query parameter left out: the field, as for a body's
        name = missing.group("name")
        return error_response(
            422, "validation_error", f"{name} is required", {"fields": {name: "required"}}
        )
    extra = exc.extra if isinstance(exc.extra, list) else []
    fields: dict[str, str] = {}
    for item in extra:
        if isinstance(item, dict) and "key" in item:
            fields[str(item["key"])] = str(item.get("message", "invalid"))
    if fields and not (set(fields) == {"data"} and fields["data"] == "'data'"):
        return error_response(
            422, "validation_error", "the request does not match the schema", {"fields": fields}
        )
    return error_response(400, "bad_request", "the request body is missing or not valid JSON")


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    code = _HTTP_CODES.get(status, "http_error")
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else code
    if status == 400 and "JSON is malformed" in message:
        message = "the request body is not valid JSON"
    if status >= 500:
        log.error("http_error", status=status, detail=exc.detail)
        return error_response(status, "internal_error", "internal error")
    # Litestar's own headers stay: a 405 names the methods the path takes (``Allow``, RFC 9110).
    return error_response(status, code, message, headers=dict(exc.headers or {}))


def database_error(
    request: Request[Any, Any, Any], exc: sqlite3.DatabaseError
) -> Response[dict[str, Any]]:
    """The database itself is unusable: 503. Locked too long or a full disk may pass, so
    "try again"; a damaged file will not, so the answer says to restore a backup (the
    store logged it at ERROR once: no traceback per request)."""
    if is_corruption(exc):
        request.app.state.hub.store.note_error(exc)
        return error_response(503, "unavailable", DAMAGED_MESSAGE, {"cause": "database_damaged"})
    log.exception("database_error", path=request.url.path)
    return error_response(503, "unavailable", "the database is unavailable, try again shortly")


DAMAGED_MESSAGE = (
    "the hub's database is damaged; it will not recover by itself: the operator must "
    "restore it from a backup (edgehub restore) and restart the hub"
)


def nesting_error(request: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    """A body nested deeper than the JSON decoder goes is the client's fault, not ours.

    Anyone may send one (``/auth/token`` takes no token), so it is one line
    without a traceback. msgspec names the decoding in its message; any other
    recursion is a bug of ours and goes to ``internal_error``.
    """
    if "deserializ" not in str(exc):
        return internal_error(request, exc)
    log.warning("request_nested_too_deep", path=request.url.path)
    return error_response(400, "bad_request", "the request body is nested too deeply")


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled_error", path=request.url.path)
    return error_response(500, "internal_error", "internal error")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HubError: hub_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    sqlite3.DatabaseError: database_error,
    RecursionError: nesting_error,
    Exception: internal_error,
}
