"""The exceptions Odoo raises, named as Odoo names them on the wire.

Odoo's ``serialize_exception`` reports ``f"{type(exc).__module__}.{type(exc).__name__}"``,
so each class here claims the module of its Odoo (or psycopg2, or werkzeug)
original. Plain Python errors raised by the emulated server code (KeyError,
AttributeError, ValueError, TypeError) are left as they are: Odoo reports them
as ``builtins.KeyError`` and so on.

``http_status`` is what the JSON-2 endpoint of Odoo 19 answers for each; the
legacy JSON-RPC endpoint answers HTTP 200 for all of them.
"""

from __future__ import annotations

import traceback
from typing import Any


class UserError(Exception):
    """A business refusal shown to the user (``odoo.exceptions.UserError``)."""

    http_status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(UserError):
    """A constraint failed (``odoo.exceptions.ValidationError``)."""


class MissingError(UserError):
    """A record was read or written after deletion (``odoo.exceptions.MissingError``)."""

    http_status = 404


class AccessError(UserError):
    """The user may not do this (``odoo.exceptions.AccessError``)."""

    http_status = 403


class AccessDenied(Exception):
    """Bad credentials. Odoo strips its traceback so nothing leaks to the caller."""

    http_status = 403

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)
        self.message = message


class SerializationFailure(Exception):
    """A concurrent update won after Odoo's five retries; nothing was committed."""

    http_status = 500


class OperationalError(Exception):
    """PostgreSQL could not serve the request, e.g. the database does not exist."""

    http_status = 500


class HTTPException(Exception):
    """A werkzeug HTTP error raised by a JSON-2 route; the body carries (description, code)."""

    code = 500

    def __init__(self, description: str) -> None:
        super().__init__(description, self.code)
        self.description = description


class BadRequest(HTTPException):
    code = 400


class Unauthorized(HTTPException):
    code = 401


class NotFound(HTTPException):
    code = 404


class UnprocessableEntity(HTTPException):
    code = 422


for _cls in (UserError, ValidationError, MissingError, AccessError, AccessDenied):
    _cls.__module__ = "odoo.exceptions"
SerializationFailure.__module__ = "psycopg2.errors"
OperationalError.__module__ = "psycopg2"
for _http_cls in (HTTPException, BadRequest, Unauthorized, NotFound, UnprocessableEntity):
    _http_cls.__module__ = "werkzeug.exceptions"


def missing_record(model: str, ids: list[int], uid: int) -> MissingError:
    """The MissingError the ORM raises when a deleted or unknown record is touched."""
    records = f"{model}({', '.join(str(i) for i in ids)},)"
    return MissingError(
        f"Record does not exist or has been deleted.\n(Record: {records}, User: {uid})"
    )


def http_status(exc: BaseException) -> int:
    """The status Odoo 19's ``Json2RpcDispatcher.handle_error`` answers with."""
    if isinstance(exc, HTTPException):
        return exc.code
    return getattr(exc, "http_status", 500)


def serialize_exception(exc: BaseException) -> dict[str, Any]:
    """Odoo's ``odoo.http.serialize_exception``: the ``data`` of a JSON-RPC error."""
    name = f"{type(exc).__module__}.{type(exc).__name__}"
    if isinstance(exc, HTTPException):
        message = exc.description
        arguments: list[Any] = [exc.description, exc.code]
    else:
        message = str(exc)
        arguments = list(exc.args)
    if isinstance(exc, AccessDenied):
        # AccessDenied suppresses its traceback: only the last line remains.
        debug = f"{name}: {message}\n"
    else:
        debug = "".join(traceback.format_exception(exc))
    return {
        "name": name,
        "message": message,
        "arguments": arguments,
        "context": {},
        "debug": debug,
    }
