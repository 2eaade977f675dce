"""Errors the hub raises on purpose.

Each carries the stable machine code and HTTP status of API.md; the mapping to
a response happens once, in ``hub.web.api.errors``.

* HubError                      500 ``internal_error``
    * BadRequest                400 ``bad_request`` (malformed JSON)
    * Unauthorized              401 ``unauthorized``
    * Forbidden                 403 ``forbidden``
    * NotFound                  404 ``not_found``
    * Conflict                  409, a code of its own (``uuid_conflict``, ``session_closed``)
        * InvalidTransition     409 ``invalid_transition``, carries state, event, allowed
    * ValidationFailed          422 ``validation_error``, carries the fields
    * RuleFailed                422 ``rule_failed``, carries the rule and its facts
    * RateLimited               429 ``rate_limited``, carries retry_after
    * Unavailable               503 ``unavailable`` (the database itself is unusable)
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of every error the hub raises on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail: dict[str, Any] = detail or {}


class BadRequest(HubError):
    status = 400
    code = "bad_request"


class Unauthorized(HubError):
    status = 401
    code = "unauthorized"


class Forbidden(HubError):
    status = 403
    code = "forbidden"


class NotFound(HubError):
    status = 404
    code = "not_found"


class Conflict(HubError):
    status = 409

    def __init__(self, code: str, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message, detail)
        self.code = code


class InvalidTransition(Conflict):
    def __init__(self, state: str, event: str, allowed: list[str]) -> None:
        super().__init__(
            "invalid_transition",
            f"cannot {event} an order in state {state}",
            {"state": state, "event": event, "allowed": allowed},
        )


class ValidationFailed(HubError):
    status = 422
    code = "validation_error"


class RuleFailed(HubError):
    status = 422
    code = "rule_failed"

    def __init__(self, rule: str, message: str, **facts: Any) -> None:
        super().__init__(message, {"rule": rule, **facts})
        self.rule = rule


class RateLimited(HubError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, **facts: Any) -> None:
        super().__init__(message, {"retry_after": retry_after, **facts})
        self.retry_after = retry_after


class Unavailable(HubError):
    status = 503
    code = "unavailable"
