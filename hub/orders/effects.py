"""What each order event writes besides the state: declared once, beside the machine.

The machine (``machine.py``) decides which transitions are allowed; this table
says what an allowed one does to the rest of the store, and
``commands.transition`` carries it out without deciding anything itself:

=========  ============  ======================  =====  =======================  ==============
event      from          payments                stock  companion event          audit records
=========  ============  ======================  =====  =======================  ==============
validate   draft         (lines priced by the hub follow the catalogue first)
pay        validated     record those given      take   ``payment.processed``    payment
ready      preparing     —                       —      ``kitchen.order_ready``  —
cancel     not paid      —                       —      —                        cancel
cancel     a paid state  refund what each took   back   ``payment.refunded``     cancel, refund
=========  ============  ======================  =====  =======================  ==============

"From" is the machine's to say: an entry holds for the transitions it has.

Every transition also writes the order's history, its
``order.updated`` event and its move on the customer board; and the order's
``kitchen_status`` becomes what ``KITCHEN_STATUS`` says of the state it entered
(while it waits in ``paid``, the tickets' progress, ``TICKET_STATUSES``, may
replace it). A station's ready marks are the bumps' (``bumps.py``): they decide
when a station's bump fires ``ready`` or ``recall``, and the event then has the
effects above like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hub.orders.machine import PAID_STATES, STATES, TRANSITIONS
from hub.orders.models import Order


class Payments(Enum):
    """What the event does to the order's payment rows."""

    RECORD = "record"  # the payments given with the event; amount paid and change follow
    REFUND = "refund"  # give back what each method took: a manager's act


UNPAID_STATES = frozenset(STATES) - PAID_STATES

TAKE = -1
GIVE_BACK = +1


def _payment_processed(order: Order) -> dict[str, Any]:
    return {
        "amount_total": order.amount_total,
        "amount_paid": order.amount_paid,
        "change": order.change,
        "payments": [p for p in order.payments if p.kind == "payment"],
    }


def _payment_refunded(order: Order) -> dict[str, Any]:
    return {"refunds": [p for p in order.payments if p.kind == "refund"]}


def _order_ready(order: Order) -> dict[str, Any]:
    return {"stations": order.stations()}


@dataclass(frozen=True, slots=True)
class Announcement:
    """A companion event in the log: the order's identity plus what ``facts`` picks out."""

    event: str
    facts: Callable[[Order], dict[str, Any]]

    def summary(self, order: Order) -> dict[str, Any]:
        """The small payload; the whole order rides on ``order.updated`` beside it."""
        return {
            "order_id": order.id,
            "uuid": order.uuid,
            "name": order.name,
            "number": order.number,
            "session_id": order.session_id,
            **self.facts(order),
        }


@dataclass(frozen=True, slots=True)
class Effects:
    """What one transition writes besides the state, history, audit and ``order.updated``."""

    reprice: bool = False  # before the rules read them: hub-priced lines follow the catalogue
    payments: Payments | None = None
    stock: int = 0  # TAKE or GIVE_BACK the order's tracked products
    announce: Announcement | None = None
    audit: tuple[str, ...] = ()  # records of the audit chain (``hub.audit.records``)


NO_EFFECTS = Effects()

DECLARED: tuple[tuple[str, frozenset[str] | None, Effects], ...] = (
    # (event, from which states (None: wherever the machine fires it), effects)
    ("validate", None, Effects(reprice=True)),
    (
        "pay",
        None,
        Effects(
            payments=Payments.RECORD,
            stock=TAKE,
            announce=Announcement("payment.processed", _payment_processed),
            audit=("payment",),
        ),
    ),
    ("ready", None, Effects(announce=Announcement("kitchen.order_ready", _order_ready))),
    ("cancel", UNPAID_STATES, Effects(audit=("cancel",))),
    (
        "cancel",
        PAID_STATES,
        Effects(
            payments=Payments.REFUND,
            stock=GIVE_BACK,
            announce=Announcement("payment.refunded", _payment_refunded),
            audit=("cancel", "refund"),
        ),
    ),
)

# Spelled out per transition of the machine once, so the service's lookup is one dict read.
EFFECTS: dict[tuple[str, str], Effects] = {
    (event, src): effects
    for event, sources, effects in DECLARED
    for _, src in sorted(t for t in TRANSITIONS if t[0] == event)
    if sources is None or src in sources
}


def effects_of(event: str, src: str) -> Effects:
    """What firing ``event`` from ``src`` writes (the machine decides whether it may)."""
    return EFFECTS.get((event, src), NO_EFFECTS)


KITCHEN_STATUS: dict[str, str | None] = {
    "draft": None,
    "validated": None,
    "paid": "queued",
    "preparing": "preparing",
    "ready": "ready",
    "done": "done",
    "invoiced": "done",
    "cancelled": "cancelled",
}
"""The ``kitchen_status`` of an order with kitchen items on entering each state."""

TICKET_STATUSES = ("queued", "sent", "printed", "failed")
"""``kitchen_status`` values that follow the tickets, while the order is paid and not started."""
TICKETS_FOLLOWED_IN = "paid"


def kitchen_status(state: str, has_kitchen_items: bool) -> str | None:
    """The ``kitchen_status`` an order gets on entering ``state``; None without kitchen items."""
    return KITCHEN_STATUS[state] if has_kitchen_items else None
