"""What Odoo's error answers mean for the sync agent.

Odoo reports an error in one of two ways: the JSON-RPC envelope (HTTP 200,
``error.data.name`` naming the Python exception, 16-19) or a real status code
with the same ``serialize_exception`` body (JSON-2, 19). Gateways in front of
Odoo add their own statuses. Each becomes one class of ``cloud_sync.errors``;
the rules are the same whichever way the error came, so one payload bug
fails the same way on Odoo 18 and 19.
"""

from __future__ import annotations

from typing import Any

from cloud_sync.errors import Ambiguous, AuthFailed, Rejected, Retryable, SyncError, WorkerLimit

# Odoo exceptions that mean "another transaction was in the way": nothing was
# committed and the same call will most likely pass later.
_CONCURRENCY_NAMES = {
    "psycopg2.errors.SerializationFailure",
    "psycopg2.errors.DeadlockDetected",
    "psycopg2.errors.LockNotAvailable",
    "psycopg2.extensions.TransactionRollbackError",
    "odoo.exceptions.ConcurrencyError",
    "odoo.exceptions.LockError",
}
_CONCURRENCY_TEXT = ("could not serialize access", "deadlock detected", "lock not available")
_CPU_LIMIT_TEXT = "CPU time limit exceeded"


def from_envelope(error: Any) -> SyncError:
    """A JSON-RPC error envelope (HTTP 200) as the error the agent acts on."""
    if not isinstance(error, dict):
        return Retryable(f"malformed JSON-RPC error: {error!r}")
    data = error.get("data")
    if not isinstance(data, dict):
        data = {}
    name = str(data.get("name") or "")
    message = str(data.get("message") or error.get("message") or "Odoo Server Error")
    if error.get("code") == 100 or name.endswith("SessionExpiredException"):
        return AuthFailed(message, remote_name=name)
    return from_exception(name, message, status=None)


def from_status(status: int, body: Any, path: str, retry_after: str | None) -> SyncError:
    """A non-200 answer (JSON-2 errors, gateways, rate limits) as the error the agent acts on."""
    name, message = "", f"Odoo answered HTTP {status} for {path}"
    if isinstance(body, dict) and body.get("name"):
        name, message = str(body["name"]), str(body.get("message") or message)
    if status == 401:
        return AuthFailed(message, remote_name=name or None, status=status)
    if status == 429:
        return Retryable(message, status=status, retry_after=_seconds(retry_after))
    if status in (502, 504):
        # A gateway answered for Odoo: it may have passed the request on and
        # lost the answer, or never reached Odoo. We cannot tell which.
        return Ambiguous(message, status=status)
    if status in (403, 500) and name:
        return from_exception(name, message, status)
    if status >= 500 or status == 409:
        return Retryable(message, remote_name=name or None, status=status)
    return Rejected(message, remote_name=name or None, status=status)


def from_exception(name: str, message: str, status: int | None) -> SyncError:
    """An exception Odoo raised and reported by name, as the error the agent acts on."""
    remote = name or None
    if name == "odoo.exceptions.AccessDenied":
        return AuthFailed(message, remote_name=remote, status=status)
    if name == "builtins.Exception" and message.startswith(_CPU_LIMIT_TEXT):
        # Raised by the worker's SIGXCPU handler (odoo/service/server.py,
        # Worker.signal_time_expired_handler) wherever the call was: rolled back.
        return WorkerLimit(message, remote_name=remote, status=status)
    if name in _CONCURRENCY_NAMES or any(text in message for text in _CONCURRENCY_TEXT):
        return Retryable(message, remote_name=remote, status=status)
    if name.startswith("psycopg2"):
        if "database" in message and "does not exist" in message:
            return AuthFailed(message, remote_name=remote, status=status)
        return Retryable(message, remote_name=remote, status=status)
    # UserError, ValidationError, MissingError, AccessError, unknown model or
    # method (UserError / AttributeError), bad arguments (TypeError, ValueError,
    # KeyError): Odoo ran the call and refused it; it would refuse it again.
    return Rejected(message, remote_name=remote, status=status)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
