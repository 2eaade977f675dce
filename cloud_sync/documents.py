"""What is sent to Odoo for an order: the hub-shaped order ``payloads`` turns into a payload.

A **sale** is the order as sold: its lines, its payments (not the refunds
of a later cancel), its totals. Sales are read for a whole batch in three
queries (``sales``) rather than through the order's full public shape,
which costs four queries and the state history per order: at a backlog's
pace that reading was a third of the agent's time. The fields are the ones
``payloads`` reads, with the same meaning as in the public shape (money as
``Decimal``, which ``payloads`` takes as readily as decimal strings).

A **refund** is the whole order negated (``payloads.refund_order``),
carrying the refund payments the hub actually recorded, dated when the order
was cancelled. Refunds are rare; they are built from the public shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlite_utils

from cloud_sync.payloads import refund_order
from hub.orders.money import Money

_CHUNK = 500


def sales(
    db: sqlite_utils.Database, money: Money, order_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """Order id → the sale document, for every order of ``order_ids``."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(order_ids), _CHUNK):
        found.update(_sales(db, money, list(order_ids[start : start + _CHUNK])))
    return found


def _sales(db: sqlite_utils.Database, money: Money, ids: list[int]) -> dict[int, dict[str, Any]]:
    marks = ",".join("?" * len(ids))
    cents = money.from_minor
    orders: dict[int, dict[str, Any]] = {}
    for oid, key, name, number, session, tax, total, change, created in db.execute(
        "SELECT id, uuid, name, number, session_id, amount_tax, amount_total, change, created_at "
        f"FROM orders WHERE id IN ({marks})",
        ids,
    ).fetchall():
        orders[oid] = {
            "id": oid,
            "uuid": key,
            "name": name,
            "number": number,
            "session_id": session,
            "amount_tax": cents(tax),
            "amount_total": cents(total),
            "change": cents(change),
            "created_at": created,
            "lines": [],
            "payments": [],
        }
    for (
        oid,
        line_id,
        product,
        name,
        qty,
        price,
        discount,
        taxes,
        tax,
        sub,
        incl,
        note,
    ) in db.execute(
        "SELECT order_id, id, product_id, name, qty, price_unit, discount, tax_ids, tax_amount, "
        f"subtotal, subtotal_incl, note FROM order_lines WHERE order_id IN ({marks}) "
        "ORDER BY order_id, position",
        ids,
    ).fetchall():
        orders[oid]["lines"].append(
            {
                "id": line_id,
                "product_id": product,
                "name": name,
                "qty": qty,
                "price_unit": cents(price),
                "discount": discount,
                "tax_ids": json.loads(taxes),
                "tax_amount": cents(tax),
                "subtotal": cents(sub),
                "subtotal_incl": cents(incl),
                "note": note,
            }
        )
    for oid, method, amount, created in db.execute(
        "SELECT order_id, method_id, amount, created_at FROM payments "
        f"WHERE kind = 'payment' AND order_id IN ({marks}) ORDER BY id",
        ids,
    ).fetchall():
        orders[oid]["payments"].append(
            {"method_id": method, "amount": cents(amount), "created_at": created}
        )
    return orders


def sale(order: Mapping[str, Any]) -> dict[str, Any]:
    """A sale document from an order's public shape: its payments only, not its refunds."""
    return {**order, "payments": [p for p in order["payments"] if p.get("kind") != "refund"]}


def refund(order: Mapping[str, Any], refund_uuid: str) -> dict[str, Any]:
    """The refund of a cancelled paid order (public shape), dated when it was cancelled."""
    cancelled_at = next(
        (h["at"] for h in reversed(order["state_history"]) if h["event"] == "cancel"),
        order["updated_at"],
    )
    document = refund_order(sale(order), uuid=refund_uuid, created_at=cancelled_at)
    document["payments"] = [
        {"method_id": p["method_id"], "amount": p["amount"], "created_at": p["created_at"]}
        for p in order["payments"]
        if p.get("kind") == "refund"
    ]
    return document


def refunded_lines(document: Mapping[str, Any], remote_line_ids: Sequence[int]) -> dict[int, int]:
    """Hub sale line id → Odoo ``pos.order.line`` id, pairing lines in the order they were sent.

    Lines go to Odoo in position order and Odoo numbers them in that order;
    if the counts differ something else touched the order at Odoo, and the
    refund is sent without line links rather than with wrong ones.
    """
    hub_lines = [line["refunded_line_id"] for line in document["lines"]]
    if len(hub_lines) != len(remote_line_ids) or None in hub_lines:
        return {}
    return dict(zip(hub_lines, sorted(remote_line_ids), strict=True))
