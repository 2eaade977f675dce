"""What the main routes answer, as TypedDicts: the response side of ``hub.api.schemas``.

They document, in the OpenAPI schema, the dicts the repositories build (an order by
``hub.orders.repository.to_public``, a product by ``hub.catalog.repository``, a session
by ``hub.sessions``, a token by ``hub.api.auth``), so a till developer's generated client
has the fields and their types. They describe and do not convert: the handlers still
return those dicts, and what is served is unchanged. The schemathesis run of
``tests/fuzz`` checks each answer against them.

Money and quantities are decimal strings (API.md); times are ISO 8601 UTC strings.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

OrderState = Literal[
    "draft", "validated", "paid", "preparing", "ready", "done", "invoiced", "cancelled"
]
"""``hub.orders.machine.STATES`` (a test keeps the two the same)."""


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


class OrderLine(TypedDict):
    id: int
    product_id: int
    name: str
    qty: str
    price_unit: str
    discount: str
    """Percent, ``"0"`` to ``"100"``."""
    tax_ids: list[int]
    tax_amount: str
    subtotal: str
    subtotal_incl: str
    station: str | None
    note: str


class Payment(TypedDict):
    id: int
    method_id: int
    kind: str
    """``payment`` or ``refund``."""
    amount: str
    reference: str
    created_at: str


# "from" is a Python keyword: the functional form.
HistoryEntry = TypedDict(
    "HistoryEntry",
    {
        "from": OrderState | None,
        "to": OrderState,
        "event": str,
        "at": str,
        "by": int | None,
        "reason": str | None,
    },
)


class OrderSync(TypedDict):
    state: str
    remote_id: int | None
    error: str | None


class Order(TypedDict):
    """The whole order, as every order route answers it."""

    id: int
    uuid: str
    name: str
    number: int
    session_id: int
    state: OrderState
    note: str
    lines: list[OrderLine]
    amount_untaxed: str
    amount_tax: str
    amount_total: str
    amount_paid: str
    change: str
    payments: list[Payment]
    state_history: list[HistoryEntry]
    kitchen_status: str | None
    sync: OrderSync
    created_at: str
    updated_at: str


class OrderPage(TypedDict):
    items: list[Order]
    next: str | None


class Product(TypedDict):
    id: int
    name: str
    barcode: str | None
    default_code: str | None
    price: str
    category_id: int | None
    tax_ids: list[int]
    available: bool
    stock_tracked: bool
    qty_available: str | None
    """Only for a stock-tracked product; ``null`` otherwise."""
    station: str | None
    remote_id: int | None
    """The product's id at head office's Odoo; ``null`` for the hub's own."""
    local_only: bool


class ProductPage(TypedDict):
    items: list[Product]
    next: str | None


class Session(TypedDict):
    id: int
    terminal: str
    user_id: int
    state: Literal["open", "closed"]
    opening_cash: str
    closing_cash: str | None
    order_count: int
    opened_at: str
    closed_at: str | None
    remote_id: int | None


class ClosedSession(Session):
    cancelled_orders: list[int]
    """The unpaid orders cancelled with it (``cancel_unpaid``)."""


class SessionPage(TypedDict):
    items: list[Session]
    next: str | None


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


class PaymentMethod(TypedDict):
    id: int
    name: str
    is_cash: bool
    remote_id: int | None


class PaymentMethodPage(TypedDict):
    items: list[PaymentMethod]
    next: None
    """Always ``null``: every active method is on the one page."""


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


class KitchenTicket(Order):
    """An order as a kitchen screen shows it: with the stations that already bumped it."""

    ready_stations: list[str]


class TicketAges(TypedDict):
    warn: float
    """Seconds after which a ticket shows as late-ish, then late."""
    late: float


class KitchenTickets(TypedDict):
    """``GET /api/v1/kitchen/tickets``: open tickets oldest first, read with the log head."""

    tickets: list[KitchenTicket]
    seq: int
    ages: dict[str, TicketAges]
