"""A batch: outbox rows with the hub orders they stand for, read in one snapshot.

What is pushed is built from the order as it is stored now, not from the
event that enqueued it, so a parked order retried after its catalogue ids
were fixed goes out with the fixed ids. A sale carries the order's payments;
a refund is the whole order negated (``payloads.refund_order``) carrying the
refund payments the hub actually recorded, so Odoo's books match the till's
drawer method by method.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from cloud_sync import idmap, outbox
from cloud_sync.errors import Unmapped
from cloud_sync.outbox import Item
from cloud_sync.payloads import refund_order
from hub.db.store import Store
from hub.orders import repository
from hub.orders.money import Money

# Turns a hub-shaped order into its Odoo payload with a given id map (pure; may raise Unmapped).
Builder = Callable[[dict[str, Any], idmap.IdMap], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows to push; ``documents``, ``sale_ids`` and ``payloads`` are keyed by outbox id.

    ``payloads`` holds the sales' payloads already built with ``ids`` (those
    that could be: a session not yet booked at Odoo, or an unmapped product,
    waits for the pusher), so that building them, too, happens off the
    critical path when the batch is read ahead.
    """

    items: Sequence[Item]
    documents: Mapping[int, dict[str, Any]]  # hub-shaped order to turn into a payload
    sale_ids: Mapping[int, int]  # refund row → the Odoo id of the sale it refunds
    ids: idmap.IdMap
    payloads: Mapping[int, dict[str, Any]] = field(default_factory=dict)


def load(
    db: sqlite_utils.Database, money: Money, items: Sequence[Item], build: Builder | None = None
) -> Batch:
    """Read everything a batch needs in the caller's (read) transaction; prebuild with ``build``."""
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
    ids = idmap.load(db, (i.session_id for i in items))
    payloads: dict[int, dict[str, Any]] = {}
    if build is not None:
        for item in items:
            if item.kind == "sale" and item.session_id in ids.sessions:
                with contextlib.suppress(Unmapped):
                    payloads[item.id] = build(documents[item.id], ids)
    return Batch(items, documents, sale_ids, ids, payloads)


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


class ReadAhead:
    """Reads the next batch while the current one is at Odoo.

    Reading a batch (its orders, in SQLite) and building its payloads cost
    about half what Odoo takes to store it; done on a reader thread while
    the event loop waits for Odoo's answer, they cost no wall time. The
    batch read ahead is used only if it is exactly the batch the queue gives
    next (same rows, same flags), and is dropped whenever a pull may change
    the id map; otherwise it is thrown away and read again.
    """

    def __init__(self, store: Store, money: Money, size: int) -> None:
        self.store = store
        self.money = money
        self.size = size
        self._task: asyncio.Task[Batch] | None = None

    def start(self, after: int, build: Builder | None = None) -> None:
        """Read (and build) the batch after row ``after``, on a reader thread."""
        self.discard()
        self._task = asyncio.create_task(
            self.store.read(_load_next, self.money, self.size, after, build)
        )

    async def take(self, items: Sequence[Item]) -> Batch | None:
        """The batch read ahead, if it is the one for ``items``."""
        task, self._task = self._task, None
        if task is None:
            return None
        try:
            batch = await task
        except Exception:
            return None  # it will be read again, and fail again if it must
        return batch if list(batch.items) == list(items) else None

    def discard(self) -> None:
        """Forget what was read ahead (the queue or the id map changed)."""
        if self._task is not None:
            self._task.cancel()
            task, self._task = self._task, None
            task.add_done_callback(_consume)


def _load_next(
    db: sqlite_utils.Database, money: Money, size: int, after: int, build: Builder | None
) -> Batch:
    return load(db, money, outbox.next_batch(db, size, after), build)


def _consume(task: asyncio.Task[Batch]) -> None:
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
