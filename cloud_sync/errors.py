"""Errors the cloud sync raises on purpose.

Every failure of a call to Odoo becomes exactly one of these, in one place
(``cloud_sync.odoo``), with the foreign exception kept as ``__cause__``. The
class tells the sync agent what to do next; the message says why, in Odoo's
own words where Odoo gave any.

* SyncError                 base: ``message``, Odoo's exception ``remote_name``, HTTP ``status``
    * Retryable             nothing was committed; send the same request again later:
                            connection refused, connect/pool timeout, HTTP 503 and other
                            5xx not naming an Odoo exception, 409, 429 (``retry_after``),
                            serialization failures ("could not serialize access"),
                            deadlocks, lock timeouts, other database (psycopg2) errors
        * Ambiguous         the request may have been committed: timeout after the request
                            was sent, connection dropped before the answer, a gateway
                            (502/504) answering for Odoo. Ask Odoo (``find_orders``) before
                            sending again.
        * WorkerLimit       Odoo's worker ran out of CPU time ("CPU time limit exceeded."):
                            rolled back; the same call would run out again, a smaller one
                            may pass.
    * AuthFailed            the credentials or the database are wrong: ``login`` answered
                            false, AccessDenied, HTTP 401, session expired, no such
                            database. Retrying will not help until the configuration is fixed.
    * Rejected              Odoo ran the call and refused it: UserError, ValidationError,
                            MissingError, AccessError, unknown model or method, HTTP 400,
                            404 and 422, and any other Python exception Odoo names
                            (ValueError, KeyError...), whether in a JSON-RPC envelope or a
                            JSON-2 500. Carries Odoo's message; the same request will be
                            refused again.
    * Unmapped              the payload cannot be built yet: a hub id has no Odoo id in
                            the id map (the catalogue pull has not seen it). Nothing was sent.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every error the cloud sync raises on purpose."""

    def __init__(
        self, message: str, *, remote_name: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remote_name = remote_name
        self.status = status


class Retryable(SyncError):
    """Nothing was committed at Odoo; the same request may be sent again later."""

    def __init__(
        self,
        message: str,
        *,
        remote_name: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, remote_name=remote_name, status=status)
        self.retry_after = retry_after


class Ambiguous(Retryable):
    """The request may have been committed; check at Odoo before sending it again."""


class WorkerLimit(Retryable):
    """Odoo stopped the call at its worker's CPU time limit; nothing was committed."""


class AuthFailed(SyncError):
    """Odoo does not accept the configured database, login or API key."""


class Rejected(SyncError):
    """Odoo ran the call and refused it; ``message`` is Odoo's own text."""


class Unmapped(SyncError):
    """A hub record the order mentions has no Odoo id yet; nothing was sent."""

    def __init__(self, kind: str, hub_id: object) -> None:
        super().__init__(f"no Odoo id for hub {kind} {hub_id!r}")
        self.kind = kind
        self.hub_id = hub_id
