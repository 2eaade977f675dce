"""Reading orders back into the public shape of API.md, and the order's rooms.

One function builds the order dict, used by the REST answers, by the events
written with each change, and later by the kitchen and sync consumers, so all
of them see the same order.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlite_utils

from hub.db.where import Where
from hub.orders.money import Money, qty_text

ORDER_COLUMNS = (
    "id, uuid, name, number, session_id, state, note, amount_untaxed, amount_tax, "
    "amount_total, amount_paid, change, kitchen_status, sync_state, sync_remote_id, "
    "sync_error, created_at, updated_at, body_hash, created_by"
)


_ORDER_NAMES = tuple(name.strip() for name in ORDER_COLUMNS.split(","))


def load_row(db: sqlite_utils.Database, order_id: int) -> dict[str, Any] | None:
    return change_row(db, f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,))


def change_row(
    db: sqlite_utils.Database, sql: str, params: tuple[Any, ...]
) -> dict[str, Any] | None:
    """The order row a statement yields: a SELECT of ``ORDER_COLUMNS``, or an UPDATE
    ending ``RETURNING {ORDER_COLUMNS}``, which changes and reads back in one step.

    None when no row matched (for a conditional UPDATE: another writer moved it first).
    """
    row = db.execute(sql, params).fetchone()
    return dict(zip(_ORDER_NAMES, row, strict=True)) if row is not None else None


def order_id_by_uuid(db: sqlite_utils.Database, uuid: str) -> int | None:
    row = db.execute("SELECT id FROM orders WHERE uuid = ?", (uuid,)).fetchone()
    return int(row[0]) if row else None


def load_lines(db: sqlite_utils.Database, order_id: int) -> list[dict[str, Any]]:
    cursor = db.execute(
        "SELECT id, position, product_id, name, qty, price_unit, price_manual, discount, "
        "override_by, tax_ids, tax_amount, subtotal, subtotal_incl, station, note "
        "FROM order_lines WHERE order_id = ? ORDER BY position",
        (order_id,),
    )
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def to_public(
    db: sqlite_utils.Database,
    money: Money,
    row: dict[str, Any],
    lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole order as API.md describes it.

    ``lines``: the order's line rows (``load_lines``) when the caller read them
    in this same transaction and has not changed them since, to save reading
    them again.
    """
    order_id = row["id"]
    text = money.text
    if lines is None:
        lines = load_lines(db, order_id)
    public_lines = [
        {
            "id": line["id"],
            "product_id": line["product_id"],
            "name": line["name"],
            "qty": line["qty"],
            "price_unit": text(line["price_unit"]),
            "discount": qty_text(Decimal(line["discount"])),
            "tax_ids": json.loads(line["tax_ids"]),
            "tax_amount": text(line["tax_amount"]),
            "subtotal": text(line["subtotal"]),
            "subtotal_incl": text(line["subtotal_incl"]),
            "station": line["station"],
            "note": line["note"],
        }
        for line in lines
    ]
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
    payments = [
        {
            "id": pid,
            "method_id": method_id,
            "kind": kind,
            "amount": text(amount),
            "reference": reference,
            "created_at": created_at,
        }
        for pid, method_id, kind, amount, reference, created_at in payment_rows
    ]
    history = [
        {"from": src, "to": dst, "event": event, "at": at, "by": by, "reason": reason}
        for src, dst, event, at, by, reason in db.execute(
            "SELECT from_state, to_state, event, at, by_user, reason FROM order_history "
            "WHERE order_id = ? ORDER BY id",
            (order_id,),
        ).fetchall()
    ]
    return {
        "id": order_id,
        "uuid": row["uuid"],
        "name": row["name"],
        "number": row["number"],
        "session_id": row["session_id"],
        "state": row["state"],
        "note": row["note"],
        "lines": public_lines,
        "amount_untaxed": text(row["amount_untaxed"]),
        "amount_tax": text(row["amount_tax"]),
        "amount_total": text(row["amount_total"]),
        "amount_paid": text(row["amount_paid"]),
        "change": text(row["change"]),
        "payments": payments,
        "state_history": history,
        "kitchen_status": row["kitchen_status"],
        "sync": {
            "state": row["sync_state"],
            "remote_id": row["sync_remote_id"],
            "error": row["sync_error"],
        },
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def get_public(db: sqlite_utils.Database, money: Money, order_id: int) -> dict[str, Any] | None:
    row = load_row(db, order_id)
    return to_public(db, money, row) if row else None


def rooms_for(order: dict[str, Any]) -> list[str]:
    """The WebSocket rooms an order's events belong to (API.md, "Rooms")."""
    rooms = ["store", f"session:{order['session_id']}", f"order:{order['uuid']}"]
    stations = sorted({line["station"] for line in order["lines"] if line["station"]})
    if stations and order["state"] not in ("draft", "validated"):
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
