"""Order commands: load, fire one event, save order + history + events in one transaction.

Every function here runs inside the write transaction the caller opened
(``Store.write`` or ``immediate``): either everything it wrote is committed,
or nothing is. The REST API, the kitchen bridge and tests all change orders
through these functions only, so the rules hold whoever asks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlite_utils
from statemachine.exceptions import TransitionNotAllowed

from hub import events
from hub.audit import records as audit
from hub.auth.roles import allowed
from hub.auth.users import Actor
from hub.catalog import repository as catalog
from hub.clock import iso, now_iso, parse_iso
from hub.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    RuleFailed,
    ValidationFailed,
)
from hub.logs import get_logger
from hub.orders import board, repository
from hub.orders.effects import (
    TICKET_STATUSES,
    TICKETS_FOLLOWED_IN,
    Payments,
    effects_of,
    kitchen_status,
)
from hub.orders.machine import (
    EVENTS,
    LineFacts,
    OrderContext,
    PaymentFacts,
    machine_for,
)
from hub.orders.models import Order
from hub.orders.money import Money, qty_text
from hub.orders.repository import LineRow, OrderRow


@dataclass(frozen=True, slots=True)
class LineInput:
    product_id: int
    qty: Decimal
    note: str = ""
    price_unit: int | None = None  # set only for a manual price (needs approval)
    discount: Decimal = Decimal(0)

    @property
    def manual(self) -> bool:
        """Priced by hand (a price or a discount): needs a manager and is audited."""
        return self.price_unit is not None or self.discount != 0


@dataclass(frozen=True, slots=True)
class PaymentInput:
    method_id: int
    amount: int
    reference: str = ""


@dataclass(frozen=True, slots=True)
class OrderRules:
    """The settings the order rules read."""

    money: Money
    store: str
    max_discount_pct: Decimal


log = get_logger("edgehub.orders")


def body_hash(body: dict[str, Any]) -> str:
    """Fingerprint of a create request, to tell a replay from a different order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_order(
    db: sqlite_utils.Database,
    rules: OrderRules,
    actor: Actor,
    *,
    uuid: str,
    session_id: int,
    lines: list[LineInput],
    note: str,
    fingerprint: str,
    approver: Actor | None = None,
) -> tuple[Order, bool]:
    """Create a draft order; a replay of the same uuid and body returns the first one.
    Who may is the route's to decide (``PERMISSIONS["till"]``).

    Returns ``(order, created)``.
    """
    existing = db.execute("SELECT id, body_hash FROM orders WHERE uuid = ?", (uuid,)).fetchone()
    if existing is not None:
        if existing[1] != fingerprint:
            raise Conflict(
                "uuid_conflict",
                f"an order with uuid {uuid} exists with a different body",
                {"uuid": uuid, "order_id": existing[0]},
            )
        order = repository.get_order(db, rules.money, existing[0])
        assert order is not None
        return order, False

    numbered = db.execute(
        "UPDATE pos_sessions SET order_seq = order_seq + 1 WHERE id = ? AND state = 'open' "
        "RETURNING order_seq",
        (session_id,),
    ).fetchone()
    if numbered is None:
        if db.execute("SELECT 1 FROM pos_sessions WHERE id = ?", (session_id,)).fetchone():
            raise Conflict(
                "session_closed",
                f"session {session_id} is closed and takes no new orders",
                {"session_id": session_id},
            )
        raise ValidationFailed(
            f"session {session_id} does not exist", {"fields": {"session_id": "unknown session"}}
        )
    now = now_iso()
    name = f"{rules.store}-{session_id:04d}-{numbered[0]:04d}"
    number = _day_number(db, now)
    cursor = db.execute(
        "INSERT INTO orders (uuid, body_hash, name, number, session_id, state, note, "
        "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?)",
        (uuid, fingerprint, name, number, session_id, note, actor.id, now, now),
    )
    order_id = cursor.lastrowid
    assert order_id is not None
    _write_lines(db, rules, actor, order_id, lines, approver)
    _history(db, order_id, None, "draft", "create", actor, None, now)
    order = repository.read_order(db, rules.money, _recompute_totals(db, order_id))
    events.append(db, "order.created", order, repository.rooms_for(order))
    log.info("order_created", order=order_id, session=session_id, by=actor.id)
    return order, True


def replace_lines(
    db: sqlite_utils.Database,
    rules: OrderRules,
    actor: Actor,
    order_id: int,
    lines: list[LineInput],
    *,
    note: str | None = None,
    approver: Actor | None = None,
) -> Order:
    """Replace the lines of a draft order (PATCH); the route's guard decides who may."""
    row = _load(db, order_id)
    if row["state"] != "draft":
        raise Conflict(
            "invalid_transition",
            f"only a draft order can be edited; this one is {row['state']}",
            {"state": row["state"], "event": "edit", "allowed": _enabled(db, rules, row)},
        )
    db.execute("DELETE FROM order_lines WHERE order_id = ?", (order_id,))
    _write_lines(db, rules, actor, order_id, lines, approver)
    _recompute_totals(db, order_id)
    now = now_iso()
    if note is not None:
        db.execute("UPDATE orders SET note = ? WHERE id = ?", (note, order_id))
    changed = repository.change_row(
        db,
        f"UPDATE orders SET updated_at = ? WHERE id = ? AND state = 'draft' "
        f"RETURNING {repository.ORDER_COLUMNS}",
        (now, order_id),
    )
    if changed is None:
        raise Conflict("invalid_transition", "the order changed state meanwhile")
    order = repository.read_order(db, rules.money, changed)
    events.append(db, "order.updated", order, repository.rooms_for(order))
    return order


def transition(
    db: sqlite_utils.Database,
    rules: OrderRules,
    actor: Actor,
    order_id: int,
    event: str,
    *,
    payments: list[PaymentInput] | None = None,
    reason: str | None = None,
) -> Order:
    """Fire one event at an order and persist everything it changes."""
    if event not in EVENTS:
        raise NotFound(f"no such order event: {event}")
    row = _load(db, order_id)
    # Checked here, not by a route guard: the till's route and the kitchen bridge both
    # come this way, and which roles may fire depends on the event.
    if not allowed(actor.role, f"order.{event}"):
        raise Forbidden(f"a {actor.role} may not {event} orders", {"role": actor.role})
    src = row["state"]
    effects = effects_of(event, src)
    if effects.reprice and _reprice_catalogue_lines(db, rules.money, order_id):
        row = _recompute_totals(db, order_id)
    lines = repository.load_lines(db, order_id)  # a transition never changes them
    context = _context(db, rules, row, lines, payments or [])
    with machine_for(src, context) as machine:
        refund = effects.payments is Payments.REFUND
        if refund and not actor.is_manager and event in machine.enabled():
            raise Forbidden(
                "cancelling a paid order refunds it: a manager must do it",
                {"state": src, "event": event},
            )
        try:
            machine.send(event)
        except TransitionNotAllowed as exc:
            raise InvalidTransition(src, event, machine.enabled()) from exc
        dst: str = machine.current_state_value
    now = now_iso()
    paid, change = row["amount_paid"], row["change"]
    if effects.payments is Payments.RECORD:
        paid = sum(p.amount for p in payments or [])
        change = paid - row["amount_total"]
        _record_payments(db, order_id, payments or [], actor, now)
    elif refund:
        _refund(db, order_id, row, actor, now)
    if effects.stock:
        _move_stock(db, context, sign=effects.stock, now=now)

    kitchen = kitchen_status(dst, context.has_kitchen_items)
    changed = repository.change_row(
        db,
        "UPDATE orders SET state = ?, kitchen_status = ?, updated_at = ?, amount_paid = ?, "
        f"change = ? WHERE id = ? AND state = ? RETURNING {repository.ORDER_COLUMNS}",
        (dst, kitchen, now, paid, change, order_id, src),
    )
    if changed is None:
        # Another writer moved the order first; this transaction is rolled back.
        raise InvalidTransition(src, event, [])
    _history(db, order_id, src, dst, event, actor, reason, now)
    order = repository.read_order(db, rules.money, changed, lines)
    audit.order_transition(db, actor, effects.audit, src, order, reason)
    rooms = repository.rooms_for(order)
    events.append(db, "order.updated", order, rooms)
    board.record_move(db, order, src)
    if effects.announce is not None:
        events.append(db, effects.announce.event, effects.announce.summary(order), rooms)
    log.info("order_transitioned", order=order_id, transition=event, src=src, dst=dst, by=actor.id)
    return order


def set_kitchen_status(
    db: sqlite_utils.Database, rules: OrderRules, order_id: int, status: str
) -> Order | None:
    """Record how far the order's kitchen tickets got, for an order still waiting in ``paid``.

    Once the kitchen has started, the state machine's own values (preparing,
    ready, done, cancelled) say more and are left alone. Returns the order when
    it changed, after appending its ``order.updated`` event; None otherwise.
    """
    if status not in TICKET_STATUSES:
        raise ValueError(f"kitchen_status {status!r} is not one of {TICKET_STATUSES}")
    changed = db.execute(
        "UPDATE orders SET kitchen_status = ?, updated_at = ? WHERE id = ? AND state = ? "
        "AND kitchen_status IS NOT ?",
        (status, now_iso(), order_id, TICKETS_FOLLOWED_IN, status),
    ).rowcount
    if not changed:
        return None
    order = repository.get_order(db, rules.money, order_id)
    assert order is not None
    events.append(db, "order.updated", order, repository.rooms_for(order))
    return order


def allowed_events(db: sqlite_utils.Database, rules: OrderRules, order_id: int) -> list[str]:
    return _enabled(db, rules, _load(db, order_id))


# --- internals -------------------------------------------------------------------------


def _load(db: sqlite_utils.Database, order_id: int) -> OrderRow:
    row = repository.load_row(db, order_id)
    if row is None:
        raise NotFound(f"order {order_id} does not exist", {"order_id": order_id})
    return row


def _enabled(db: sqlite_utils.Database, rules: OrderRules, row: OrderRow) -> list[str]:
    context = _context(db, rules, row, repository.load_lines(db, row["id"]), [])
    with machine_for(row["state"], context) as machine:
        return machine.enabled()


def _day_number(db: sqlite_utils.Database, now: str) -> int:
    """The number the customer holds: 1, 2, 3… through the store's day, across every till.

    The receipt shows it, the kitchen ticket prints it and the ready board calls
    it out, so it must tell the day's orders apart (a per-session counter gave
    four tills' first orders the same 1). The day is the hub box's local one.
    Orders are created one writer at a time in time order, so the newest row
    holds the day's highest number: one primary-key lookup, no scan.
    """
    day_start = parse_iso(now).astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    row = db.execute("SELECT number, created_at FROM orders ORDER BY id DESC LIMIT 1").fetchone()
    if row is None or row[1] < iso(day_start):
        return 1
    return int(row[0]) + 1


def _write_lines(
    db: sqlite_utils.Database,
    rules: OrderRules,
    actor: Actor,
    order_id: int,
    lines: list[LineInput],
    approver: Actor | None,
) -> None:
    products = catalog.product_rows(db, (line.product_id for line in lines))
    taxes = catalog.taxes_of(db, products)
    rows = []
    for position, line in enumerate(lines, start=1):
        product = products.get(line.product_id)
        if product is None:
            raise RuleFailed(
                "product_known",
                f"product {line.product_id} is not in the catalogue",
                line=position,
                product_id=line.product_id,
            )
        manual = line.manual
        price = line.price_unit if line.price_unit is not None else product["price"]
        line_taxes = taxes.get(line.product_id, [])
        amounts = rules.money.line(price, line.qty, line.discount, line_taxes)
        rows.append(
            (
                order_id,
                position,
                line.product_id,
                product["name"],
                qty_text(line.qty),
                price,
                int(manual),
                qty_text(line.discount),
                approver.id if manual and approver is not None else None,
                json.dumps([t.id for t in line_taxes]),
                amounts.tax_amount,
                amounts.subtotal,
                amounts.subtotal_incl,
                product["station"],
                line.note,
            )
        )
    db.conn.executemany(
        "INSERT INTO order_lines (order_id, position, product_id, name, qty, price_unit, "
        "price_manual, discount, override_by, tax_ids, tax_amount, subtotal, subtotal_incl, "
        "station, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    if any(line.manual for line in lines):  # hand prices are audited with the lines
        audit.price_overrides(db, actor, order_id)


def _reprice_catalogue_lines(db: sqlite_utils.Database, money: Money, order_id: int) -> bool:
    """Lines priced by the hub follow the catalogue until the order is validated.

    Returns whether any line changed; a line whose price and taxes still hold
    is left as it is.
    """
    rows = db.execute(
        "SELECT l.id, l.qty, l.discount, p.id, p.price, l.price_unit, l.tax_ids, l.tax_amount, "
        "l.subtotal, l.subtotal_incl FROM order_lines l JOIN products p ON p.id = l.product_id "
        "WHERE l.order_id = ? AND l.price_manual = 0",
        (order_id,),
    ).fetchall()
    if not rows:
        return False
    taxes = catalog.taxes_of(db, (r[3] for r in rows))
    changed = False
    for line_id, qty, discount, product_id, price, *current in rows:
        line_taxes = taxes.get(product_id, [])
        amounts = money.line(price, Decimal(qty), Decimal(discount), line_taxes)
        priced = (
            price,
            json.dumps([t.id for t in line_taxes]),
            amounts.tax_amount,
            amounts.subtotal,
            amounts.subtotal_incl,
        )
        if list(priced) == current:
            continue
        changed = True
        db.execute(
            "UPDATE order_lines SET price_unit = ?, tax_ids = ?, tax_amount = ?, subtotal = ?, "
            "subtotal_incl = ? WHERE id = ?",
            (*priced, line_id),
        )
    return changed


def _recompute_totals(db: sqlite_utils.Database, order_id: int) -> OrderRow:
    """Totals from the lines; returns the order row as it now stands."""
    row = repository.change_row(
        db,
        "UPDATE orders SET "
        "amount_untaxed = (SELECT COALESCE(SUM(subtotal), 0) FROM order_lines WHERE order_id = ?),"
        "amount_tax = (SELECT COALESCE(SUM(tax_amount), 0) FROM order_lines WHERE order_id = ?),"
        "amount_total = (SELECT COALESCE(SUM(subtotal_incl), 0) FROM order_lines "
        f"WHERE order_id = ?) WHERE id = ? RETURNING {repository.ORDER_COLUMNS}",
        (order_id, order_id, order_id, order_id),
    )
    if row is None:
        raise NotFound(f"order {order_id} does not exist", {"order_id": order_id})
    return row


def _context(
    db: sqlite_utils.Database,
    rules: OrderRules,
    row: OrderRow,
    lines: list[LineRow],
    payments: list[PaymentInput],
) -> OrderContext:
    facts = catalog.product_facts(db, (line["product_id"] for line in lines))
    methods = catalog.payment_methods_by_id(db) if payments else {}
    return OrderContext(
        money=rules.money,
        lines=[
            LineFacts(
                position=line["position"],
                product_id=line["product_id"],
                qty=Decimal(line["qty"]),
                price_unit=line["price_unit"],
                discount=Decimal(line["discount"]),
                manual_price=bool(line["price_manual"]),
                override_by=line["override_by"],
                station=line["station"],
                product=facts.get(line["product_id"]),
            )
            for line in lines
        ],
        amount_total=row["amount_total"],
        max_discount_pct=rules.max_discount_pct,
        payments=[
            PaymentFacts(
                method_id=p.method_id,
                amount=p.amount,
                known=methods.get(p.method_id, (False, False))[0],
                is_cash=methods.get(p.method_id, (False, False))[1],
            )
            for p in payments
        ],
    )


def _move_stock(db: sqlite_utils.Database, context: OrderContext, *, sign: int, now: str) -> None:
    """Take (``sign=-1``) or give back (``+1``) the stock of the order's tracked products,
    from the quantities the rules just read in this same transaction."""
    totals: dict[int, Decimal] = {}
    current: dict[int, Decimal] = {}
    for line in context.lines:
        product = line.product
        if product is None or not product.stock_tracked or product.qty_available is None:
            continue
        totals[product.id] = totals.get(product.id, Decimal(0)) + line.qty
        current[product.id] = product.qty_available
    for product_id, qty in totals.items():
        db.execute(
            "UPDATE stock SET qty_available = ?, updated_at = ? WHERE product_id = ?",
            (qty_text(current[product_id] + sign * qty), now, product_id),
        )


def _record_payments(
    db: sqlite_utils.Database,
    order_id: int,
    payments: list[PaymentInput],
    actor: Actor,
    now: str,
) -> None:
    db.conn.executemany(
        "INSERT INTO payments (order_id, method_id, kind, amount, reference, created_at, "
        "created_by) VALUES (?, ?, 'payment', ?, ?, ?, ?)",
        [(order_id, p.method_id, p.amount, p.reference, now, actor.id) for p in payments],
    )


def _refund(
    db: sqlite_utils.Database, order_id: int, row: OrderRow, actor: Actor, now: str
) -> None:
    """Give back what each method took; change already left the drawer in cash."""
    paid = db.execute(
        "SELECT p.method_id, SUM(p.amount), m.is_cash FROM payments p "
        "JOIN payment_methods m ON m.id = p.method_id "
        "WHERE p.order_id = ? AND p.kind = 'payment' GROUP BY p.method_id ORDER BY m.is_cash",
        (order_id,),
    ).fetchall()
    change_left = row["change"]
    for method_id, amount, is_cash in reversed(paid):  # cash first: change came from it
        refund = amount
        if is_cash and change_left > 0:
            taken = min(change_left, refund)
            refund -= taken
            change_left -= taken
        if refund > 0:
            db.execute(
                "INSERT INTO payments (order_id, method_id, kind, amount, reference, created_at, "
                "created_by) VALUES (?, ?, 'refund', ?, 'refund', ?, ?)",
                (order_id, method_id, -refund, now, actor.id),
            )


def _history(
    db: sqlite_utils.Database,
    order_id: int,
    src: str | None,
    dst: str,
    event: str,
    actor: Actor,
    reason: str | None,
    now: str,
) -> None:
    db.execute(
        "INSERT INTO order_history (order_id, from_state, to_state, event, at, by_user, reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (order_id, src, dst, event, now, actor.id, reason),
    )
