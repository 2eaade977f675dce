"""A batch: outbox rows with the hub orders they stand for, read in one snapshot.

What is pushed is built from the order as it is stored now, not from the
event that enqueued it, so a parked order retried after its catalogue ids
were fixed goes out with the fixed ids. A sale carries the order's payments;
a refund is the whole order negated (``payloads.refund_order``) carrying the
refund payments the hub actually recorded, so Odoo's books match the till's
drawer method by method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from cloud_sync import idmap
from cloud_sync.outbox import Item
from cloud_sync.payloads import refund_order
from hub.orders import repository
from hub.orders.money import Money


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows to push; ``documents`` and ``sale_ids`` are keyed by outbox id."""

    items: Sequence[Item]
    documents: Mapping[int, dict[str, Any]]  # hub-shaped order to turn into a payload
    sale_ids: Mapping[int, int]  # refund row → the Odoo id of the sale it refunds
    ids: idmap.IdMap


def load(db: sqlite_utils.Database, money: Money, items: Sequence[Item]) -> Batch:
    """Read everything a batch needs in the caller's (read) transaction."""
    documents: dict[int, dict[str, Any]] = {}
    sale_ids: dict[int, int] = {}
    for item in items:
        order = repository.get_public(db, money, item.order_id)
        if order is None:  # orders are never deleted; a missing one is a bug worth a traceback
            raise LookupError(f"outbox row {item.id} names missing order {item.order_id}")
        if item.kind == "sale":
            documents[item.id] = sale_document(order)
        else:
            documents[item.id] = refund_document(order, item.uuid)
            row = db.execute(
                "SELECT remote_id FROM sync_outbox WHERE order_id = ? AND kind = 'sale'",
                (item.order_id,),
            ).fetchone()
            if row and row[0] is not None:
                sale_ids[item.id] = int(row[0])
    return Batch(items, documents, sale_ids, idmap.load(db, (i.session_id for i in items)))


def sale_document(order: Mapping[str, Any]) -> dict[str, Any]:
    """The order as sold: its payments only, not the refunds of a later cancel."""
    return {**order, "payments": [p for p in order["payments"] if p.get("kind") != "refund"]}


def refund_document(order: Mapping[str, Any], refund_uuid: str) -> dict[str, Any]:
    """The refund of a cancelled paid order, dated when it was cancelled."""
    sale = sale_document(order)
    cancelled_at = next(
        (h["at"] for h in reversed(order["state_history"]) if h["event"] == "cancel"),
        order["updated_at"],
    )
    refund = refund_order(sale, uuid=refund_uuid, created_at=cancelled_at)
    refund["payments"] = [
        {"method_id": p["method_id"], "amount": p["amount"], "created_at": p["created_at"]}
        for p in order["payments"]
        if p.get("kind") == "refund"
    ]
    return refund


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
