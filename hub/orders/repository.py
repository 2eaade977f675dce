"""Reading orders back as ``hub.orders.models.Order``, and the order's rooms.

One function (``read_order``) turns the rows into the order, used by the REST
answers, by the events written with each change, and later by the kitchen and
sync consumers, so all of them see the same order.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypedDict, cast

import sqlite_utils

from hub.db.where import Where
from hub.orders.models import HistoryEntry, Order, OrderLine, OrderState, OrderSync, Payment
from hub.orders.money import Money, qty_text

ORDER_COLUMNS = (
    "id, uuid, name, number, session_id, state, note, amount_untaxed, amount_tax, "
    "amount_total, amount_paid, change, kitchen_status, sync_state, sync_remote_id, "
    "sync_error, created_at, updated_at, body_hash, created_by"
)


_ORDER_NAMES = tuple(name.strip() for name in ORDER_COLUMNS.split(","))


class OrderRow(TypedDict):
    """An ``orders`` row as ``ORDER_COLUMNS`` reads it: amounts in minor units."""

    id: int
    uuid: str
    name: str
    number: int
    session_id: int
    state: OrderState
    note: str
    amount_untaxed: int
    amount_tax: int
    amount_total: int
    amount_paid: int
    change: int
    kitchen_status: str | None
    sync_state: str
    sync_remote_id: int | None
    sync_error: str | None
    created_at: str
    updated_at: str
    body_hash: str
    created_by: int | None


class LineRow(TypedDict):
    """An ``order_lines`` row as ``load_lines`` reads it: amounts in minor units, ``qty``
    and ``discount`` decimal strings, ``tax_ids`` a JSON array."""

    id: int
    position: int
    product_id: int
    name: str
    qty: str
    price_unit: int
    price_manual: int
    discount: str
    override_by: int | None
    tax_ids: str
    tax_amount: int
    subtotal: int
    subtotal_incl: int
    station: str | None
    note: str


def load_row(db: sqlite_utils.Database, order_id: int) -> OrderRow | None:
    return change_row(db, f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,))


def change_row(db: sqlite_utils.Database, sql: str, params: tuple[Any, ...]) -> OrderRow | None:
    """The order row a statement yields: a SELECT of ``ORDER_COLUMNS``, or an UPDATE
    ending ``RETURNING {ORDER_COLUMNS}``, which changes and reads back in one step.

    None when no row matched (for a conditional UPDATE: another writer moved it first).
    """
    row = db.execute(sql, params).fetchone()
    return cast(OrderRow, dict(zip(_ORDER_NAMES, row, strict=True))) if row is not None else None


def order_id_by_uuid(db: sqlite_utils.Database, uuid: str) -> int | None:
    row = db.execute("SELECT id FROM orders WHERE uuid = ?", (uuid,)).fetchone()
    return int(row[0]) if row else None


def load_lines(db: sqlite_utils.Database, order_id: int) -> list[LineRow]:
    cursor = db.execute(
        "SELECT id, position, product_id, name, qty, price_unit, price_manual, discount, "
        "override_by, tax_ids, tax_amount, subtotal, subtotal_incl, station, note "
        "FROM order_lines WHERE order_id = ? ORDER BY position",
        (order_id,),
    )
    names = [c[0] for c in cursor.description]
    return [cast(LineRow, dict(zip(names, r, strict=True))) for r in cursor.fetchall()]


def read_order(
    db: sqlite_utils.Database,
    money: Money,
    row: OrderRow,
    lines: list[LineRow] | None = None,
) -> Order:
    """The whole order of ``row`` (``load_row``, ``change_row``), with its lines,
    payments and history read in the caller's transaction.

    ``lines``: the order's line rows (``load_lines``) when the caller read them
    in this same transaction and has not changed them since, to save reading
    them again.
    """
    order_id = row["id"]
    text = money.text
    if lines is None:
        lines = load_lines(db, order_id)
    # No payment row without an amount paid: pay records both, a refund only follows a pay.
    payment_rows = (
        db.execute(
            "SELECT id, method_id, kind, amount, reference, created_at FROM payments "
            "WHERE order_id = ? ORDER BY id",
            (order_id,),
        ).fetchall()
        if row["amount_paid"] != 0
        else []
    )
    history = db.execute(
        "SELECT from_state, to_state, event, at, by_user, reason FROM order_history "
        "WHERE order_id = ? ORDER BY id",
        (order_id,),
    ).fetchall()
    return Order(
        order_id,
        row["uuid"],
        row["name"],
        row["number"],
        row["session_id"],
        row["state"],
        row["note"],
        [
            OrderLine(
                line["id"],
                line["product_id"],
                line["name"],
                line["qty"],
                text(line["price_unit"]),
                qty_text(Decimal(line["discount"])),
                json.loads(line["tax_ids"]),
                text(line["tax_amount"]),
                text(line["subtotal"]),
                text(line["subtotal_incl"]),
                line["station"],
                line["note"],
            )
            for line in lines
        ],
        text(row["amount_untaxed"]),
        text(row["amount_tax"]),
        text(row["amount_total"]),
        text(row["amount_paid"]),
        text(row["change"]),
        [
            Payment(pid, method_id, kind, text(amount), reference, created_at)
            for pid, method_id, kind, amount, reference, created_at in payment_rows
        ],
        [HistoryEntry(*entry) for entry in history],
        row["kitchen_status"],
        OrderSync(row["sync_state"], row["sync_remote_id"], row["sync_error"]),
        row["created_at"],
        row["updated_at"],
    )


def get_order(db: sqlite_utils.Database, money: Money, order_id: int) -> Order | None:
    row = load_row(db, order_id)
    return read_order(db, money, row) if row else None


def rooms_for(order: Order) -> list[str]:
    """The WebSocket rooms an order's events belong to (API.md, "Rooms")."""
    rooms = ["store", f"session:{order.session_id}", f"order:{order.uuid}"]
    stations = order.stations()
    if stations and order.state not in ("draft", "validated"):
        rooms.append("kitchen")
        rooms.extend(f"kitchen:{s}" for s in stations)
    return rooms


def list_ids(
    db: sqlite_utils.Database,
    *,
    limit: int,
    before: int | None = None,
    session_id: int | None = None,
    state: str | None = None,
) -> list[int]:
    """Order ids, newest first, for cursor pagination."""
    where = Where().add("id < ?", before).add("session_id = ?", session_id).add("state = ?", state)
    rows = db.execute(
        f"SELECT id FROM orders WHERE {where.sql} ORDER BY id DESC LIMIT ?",
        (*where.params, limit),
    ).fetchall()
    return [r[0] for r in rows]
