"""A batch: outbox rows with the documents they stand for, read in one snapshot.

What is pushed is built from the order as it is stored now, not from the
event that enqueued it, so a parked order retried after its catalogue ids
were fixed goes out with the fixed ids (``documents`` says what is sent).
How many rows a batch takes is ``BatchSize``'s to say.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlite_utils

from cloud_sync import documents, idmap, outbox
from cloud_sync.errors import Unmapped
from cloud_sync.outbox import Item
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
    sold = documents.sales(db, money, [i.order_id for i in items if i.kind == "sale"])
    found: dict[int, dict[str, Any]] = {}
    sale_ids: dict[int, int] = {}
    for item in items:
        if item.kind == "sale":
            found[item.id] = sold[item.order_id]
            continue
        order = repository.get_order(db, money, item.order_id)
        if order is None:  # orders are never deleted; a missing one is a bug worth a traceback
            raise LookupError(f"outbox row {item.id} names missing order {item.order_id}")
        # The order as its events carry it: the documents are built from that JSON shape.
        found[item.id] = documents.refund(msgspec.to_builtins(order), item.uuid)
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
                    payloads[item.id] = build(found[item.id], ids)
    return Batch(items, found, sale_ids, ids, payloads)


class BatchSize:
    """How many orders the next push carries: start small, halve when a push dies, grow back.

    Odoo runs a push in one worker, which its server kills past
    ``limit_time_real`` (120 s by default) and stops past ``limit_time_cpu``
    (60 s): a killed worker commits nothing, and the same batch sent again
    would die again, forever. So a push that died (no answer and nothing at
    Odoo, or Odoo's "CPU time limit exceeded.") halves the size, down to one
    order, and the size stays there for ``HOLD`` pushes before it tries to
    grow again: a death costs Odoo a worker-minute or two, so it must stay
    rare. Otherwise each answered push grows the size by half, up to
    ``ceiling`` (``EDGEHUB_SYNC_BATCH_SIZE``); it starts at a quarter of it.
    """

    HOLD = 32  # answered pushes at the halved size before growing again

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.current = max(1, ceiling // 4)
        self._hold = 0

    def succeeded(self) -> None:
        """A push came back answered: grow towards the ceiling, unless holding after a death."""
        if self._hold:
            self._hold -= 1
            return
        self.current = min(self.ceiling, self.current + max(1, self.current // 2))

    def died(self) -> None:
        """A push was stopped for time and committed nothing: send fewer at a time."""
        self.current = max(1, self.current // 2)
        self._hold = self.HOLD


class ReadAhead:
    """Reads the next batch while the current one is at Odoo.

    Reading a batch (its orders, in SQLite) and building its payloads cost
    about half what Odoo takes to store it; done on a reader thread while
    the event loop waits for Odoo's answer, they cost no wall time. The
    batch read ahead is used only if it is exactly the batch the queue gives
    next (same rows, same flags), and is dropped whenever a pull may change
    the id map; otherwise it is thrown away and read again.
    """

    def __init__(self, store: Store, money: Money) -> None:
        self.store = store
        self.money = money
        self._task: asyncio.Task[Batch] | None = None

    def start(self, after: int, size: int, build: Builder | None = None) -> None:
        """Read (and build) the ``size`` rows after row ``after``, on a reader thread."""
        self.discard()
        reading = self.store.read(_load_next, self.money, size, after, build)
        self._task = asyncio.create_task(reading)

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
