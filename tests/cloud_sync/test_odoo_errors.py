"""Odoo's error answers → the error class the sync agent acts on, one row per case."""

from __future__ import annotations

from typing import Any

import pytest

from cloud_sync.errors import Ambiguous, AuthFailed, Rejected, Retryable, SyncError
from cloud_sync.odoo_errors import from_envelope, from_status


def envelope(name: str, message: str, code: int = 200) -> dict[str, Any]:
    return {
        "code": code,
        "message": "Odoo Server Error",
        "data": {"name": name, "message": message},
    }


ENVELOPES = [
    ("odoo.exceptions.AccessDenied", "Access Denied", AuthFailed),
    ("odoo.exceptions.UserError", "Object foo.bar doesn't exist", Rejected),
    ("odoo.exceptions.ValidationError", "The operation cannot be completed", Rejected),
    ("odoo.exceptions.MissingError", "Record does not exist or has been deleted.", Rejected),
    ("odoo.exceptions.AccessError", "Private methods cannot be called remotely.", Rejected),
    ("builtins.AttributeError", "The method 'pos.order.foo' does not exist", Rejected),
    ("builtins.ValueError", "Invalid field 'x' on model 'pos.order'", Rejected),
    ("psycopg2.errors.SerializationFailure", "could not serialize access", Retryable),
    ("psycopg2.OperationalError", 'FATAL:  database "x" does not exist', AuthFailed),
    ("psycopg2.OperationalError", "server closed the connection unexpectedly", Retryable),
]


@pytest.mark.parametrize(("name", "message", "expected"), ENVELOPES)
def test_jsonrpc_envelope_maps_to_the_agents_error(
    name: str, message: str, expected: type[SyncError]
) -> None:
    """The class decides retry, stop, or park; Odoo's message must survive for the operator."""
    error = from_envelope(envelope(name, message))
    assert type(error) is expected
    assert error.message == message and error.remote_name == name


def test_session_expired_envelope_is_auth_failed() -> None:
    """Code 100 is Odoo's session-expired signal, whatever the exception name."""
    assert isinstance(from_envelope({"code": 100, "message": "Odoo Session Expired"}), AuthFailed)


STATUSES = [
    (401, {"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey"}, AuthFailed),
    (403, {"name": "odoo.exceptions.AccessDenied", "message": "Access Denied"}, AuthFailed),
    (403, {"name": "odoo.exceptions.AccessError", "message": "no"}, Rejected),
    (404, {"name": "werkzeug.exceptions.NotFound", "message": "the model 'x' does not exist"},
     Rejected),
    (422, {"name": "odoo.exceptions.UserError", "message": "No open session"}, Rejected),
    (500, {"name": "builtins.ValueError", "message": "Invalid field"}, Rejected),
    (500, {"name": "psycopg2.errors.SerializationFailure", "message": "could not serialize access"},
     Retryable),
    (500, None, Retryable),
    (503, None, Retryable),
    (409, {"name": "odoo.exceptions.LockError", "message": "locked"}, Retryable),
    (502, None, Ambiguous),
    (504, None, Ambiguous),
    (400, {"name": "werkzeug.exceptions.BadRequest", "message": "could not parse"}, Rejected),
]  # fmt: skip


@pytest.mark.parametrize(("status", "body", "expected"), STATUSES)
def test_http_status_maps_to_the_agents_error(
    status: int, body: dict[str, Any] | None, expected: type[SyncError]
) -> None:
    """JSON-2 and gateways speak in statuses; the same Odoo error must map as over JSON-RPC."""
    error = from_status(status, body, "/json/2/pos.order/sync_from_ui", None)
    assert type(error) is expected
    assert error.status == status


def test_rate_limit_carries_retry_after() -> None:
    """A 429 says when to come back; the agent should honour it."""
    error = from_status(429, None, "/jsonrpc", "12")
    assert isinstance(error, Retryable) and error.retry_after == 12.0
