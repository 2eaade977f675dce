"""What the routes answer, where the handler's own return type does not say it: the
response side of ``hub.web.api.schemas``.

Orders, products and sessions are Structs of the core (``hub.orders.models``,
``hub.catalog.models``, ``hub.sessions``) that the handlers return as they are; their
pages are Structs here. The TypedDicts document, in the OpenAPI schema, the dicts other
handlers still build (a token by ``hub.web.api.auth``...), so a till developer's generated
client has the fields and their types; they describe and do not convert. The
schemathesis run of ``tests/fuzz`` checks each answer against them.

Money and quantities are decimal strings (API.md); times are ISO 8601 UTC strings.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

import msgspec

from hub.orders.models import KitchenTicket, Order
from hub.sessions import Session


class TokenUser(TypedDict):
    id: int
    name: str


class Token(TypedDict):
    """``POST /api/v1/auth/token``: send ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    """Seconds until the token expires."""
    role: Literal["cashier", "manager", "kitchen", "device", "admin"]
    user: TokenUser


class OrderPage(msgspec.Struct):
    items: list[Order]
    next: str | None
    """The ``after`` of the next page, null on the last."""


class SessionPage(msgspec.Struct):
    items: list[Session]
    next: str | None
    """The ``after`` of the next page, null on the last."""


class Category(TypedDict):
    id: int
    name: str
    parent_id: int | None
    sequence: int
    remote_id: int | None


class CategoryPage(TypedDict):
    items: list[Category]
    next: None
    """Always ``null``: every active category is on the one page."""


class Event(TypedDict):
    """One record of the event log: the same a WebSocket ``event`` frame carries."""

    seq: int
    event: str
    """``order.created``, ``order.updated``, ``payment.processed``... (API.md)."""
    ts: str
    data: dict[str, Any]


class EventPage(TypedDict):
    items: list[Event]
    next: str | None
    """The ``since`` of the next page, ``null`` at the log's head."""
    head: int
    """The newest ``seq`` of the log when read."""


class ReadyNumber(TypedDict):
    number: int
    since: str


class Board(TypedDict):
    """``GET /api/v1/board``: what the pickup screen shows, and the log head to follow."""

    preparing: list[int]
    ready: list[ReadyNumber]
    ready_seconds: int
    """How long a ready number stays on the board."""
    seq: int


class HealthChecks(TypedDict):
    db: str
    redis: str
    """``ok``, ``down`` or ``off``."""
    mqtt: str
    sync: str


class Health(TypedDict):
    """``GET /health``, 200 or (``status: down``) 503; ``detail`` holds each check's facts."""

    status: Literal["ok", "degraded", "down"]
    checks: HealthChecks
    detail: dict[str, Any]
    version: NotRequired[str]
    faults: NotRequired[list[dict[str, Any]]]
    """What is wrong and since when, each in a sentence (hub.faults)."""


class TicketAges(TypedDict):
    warn: float
    """Seconds after which a ticket shows as late-ish, then late."""
    late: float


class KitchenTickets(TypedDict):
    """``GET /api/v1/kitchen/tickets``: open tickets oldest first, read with the log head."""

    tickets: list[KitchenTicket]
    seq: int
    ages: dict[str, TicketAges]
