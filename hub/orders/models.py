"""The order as everyone outside the service sees it (API.md): REST answers, the
``order.*`` events of the log, the kitchen's tickets and the sync agent's refunds.

msgspec Structs, so one definition is the JSON the hub writes (msgspec and
Litestar encode them natively), the OpenAPI document a till developer generates
a client from, and the attributes mypy checks. Money and quantities are decimal
strings with the currency's digits, times ISO 8601 UTC strings: the Structs
hold what is served, converted once when ``hub.orders.repository`` reads the rows.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

OrderState = Literal[
    "draft", "validated", "paid", "preparing", "ready", "done", "invoiced", "cancelled"
]
"""``hub.orders.machine.STATES`` (a test keeps the two the same)."""

Amount = Annotated[str, msgspec.Meta(pattern=r"^-?\d+(\.\d+)?$")]
"""Money in the currency's units, as a decimal string (``"4.50"``)."""


class OrderLine(msgspec.Struct):
    """One line as sold: the catalogue's name and station copied in when it was written."""

    id: int
    product_id: int
    name: str
    qty: str
    price_unit: Amount
    discount: Annotated[str, msgspec.Meta(description='Percent, "0" to "100".')]
    tax_ids: list[int]
    tax_amount: Amount
    subtotal: Amount
    subtotal_incl: Amount
    station: str | None
    note: str


class Payment(msgspec.Struct):
    """Money taken (``payment``) or given back by a cancel (``refund``, a negative amount)."""

    id: int
    method_id: int
    kind: Literal["payment", "refund"]
    amount: Amount
    reference: str
    created_at: str


class HistoryEntry(msgspec.Struct):
    """One transition of the order; ``from`` is null for its creation."""

    from_: OrderState | None = msgspec.field(name="from")
    to: OrderState
    event: str
    at: str
    by: int | None
    reason: str | None


class OrderSync(msgspec.Struct):
    """How far head office has the order: ``state`` local, pending, synced..."""

    state: str
    remote_id: int | None
    error: str | None


class Order(msgspec.Struct):
    """The whole order, as every order route answers it and every ``order.*`` event carries it."""

    id: int
    uuid: str
    name: str
    number: int
    session_id: int
    state: OrderState
    note: str
    lines: list[OrderLine]
    amount_untaxed: Amount
    amount_tax: Amount
    amount_total: Amount
    amount_paid: Amount
    change: Amount
    payments: list[Payment]
    state_history: list[HistoryEntry]
    kitchen_status: str | None
    sync: OrderSync
    created_at: str
    updated_at: str

    def stations(self) -> list[str]:
        """The kitchen stations the order's lines go to, sorted."""
        return sorted({line.station for line in self.lines if line.station})


class KitchenTicket(Order):
    """An order as a kitchen screen shows it: with the stations that already bumped it."""

    ready_stations: list[str]

    @classmethod
    def of(cls, order: Order, ready_stations: list[str]) -> KitchenTicket:
        return cls(**msgspec.structs.asdict(order), ready_stations=ready_stations)
