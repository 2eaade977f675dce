"""The outbox: what the hub owes Odoo, one durable row per finished order and per refund.

``tail`` reads the event log from the sync consumer's cursor and enqueues,
in the same transaction as it advances the cursor, every order that reached
a paid state (a "sale") and every paid order that was cancelled (a
"refund"). A crash on either side of that commit enqueues each thing exactly
once: before it, neither the rows nor the cursor moved; after it, both did.

Each row's ``uuid`` is its idempotency key at Odoo: the hub order's own
uuid for a sale, one derived from it for the refund. Rows go ``pending`` →
``done`` (with Odoo's id) or ``failed`` (parked with Odoo's message until
someone retries it). ``in_flight`` marks rows sent without a definite answer:
Odoo is asked whether they exist before they are sent again.

Every function runs inside the caller's write (or read) transaction; the
order's ``sync_state``/``sync_remote_id``/``sync_error`` columns are kept in
step with its rows (``hub.sync_outbox.refresh_orders``), so the order's public
shape tells the same story. What the hub reads and does to the rows (counts,
parked rows, retry, prune) is the core's: ``hub.sync_outbox``.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from hub import events
from hub.clock import now_iso
from hub.orders.machine import PAID_STATES
from hub.sync_outbox import CHUNK, CONSUMER, refresh_orders

TAIL_LIMIT = 2000  # events per tail transaction: keeps the write lock short

_FIELDS = (
    events.Field.of("$.id", "order.updated").orelse("$.order_id", "payment.refunded"),
    events.Field.of("$.uuid", "order.updated", "payment.refunded"),
    events.Field.of("$.state", "order.updated", "session.updated"),
    events.Field.of("$.session_id", "order.updated", "payment.refunded"),
)
# Refund uuids are derived, so a re-enqueue after a crash finds the same row.
_REFUND_NAMESPACE = uuidlib.UUID("0d7c2f61-3b8e-4a5f-9e21-6c4b8a1d7e30")


@dataclass(frozen=True, slots=True)
class Item:
    """One outbox row as the pusher needs it."""

    id: int
    kind: str  # "sale" | "refund"
    order_id: int
    uuid: str
    session_id: int
    in_flight: bool


@dataclass(frozen=True, slots=True)
class Tail:
    """What one ``tail`` call did: events read, rows added, whether it reached the head,
    and whether a session closed (its Odoo session may be closable soon)."""

    consumed: int
    enqueued: int
    caught_up: bool
    session_closed: bool = False


def refund_uuid(order_uuid: str) -> str:
    """The idempotency key of the refund of order ``order_uuid``."""
    return str(uuidlib.uuid5(_REFUND_NAMESPACE, f"{order_uuid}/refund"))


# -- enqueue ------------------------------------------------------------------------------


def tail(db: sqlite_utils.Database, limit: int = TAIL_LIMIT) -> Tail:
    """Enqueue what the events after the cursor call for, and advance the cursor."""
    cursor = events.get_cursor(db, CONSUMER)
    # Only the few fields needed are extracted, and only from the events that
    # matter: an order.created body is never parsed.
    rows = events.extract(db, cursor, _FIELDS, limit=limit)
    if not rows:
        return Tail(0, 0, True)
    now = now_iso()
    touched: list[int] = []
    enqueued = 0
    session_closed = False
    for seq, event, ts, order_id, order_uuid, state, session_id in rows:
        if event == "session.updated":
            session_closed = session_closed or state == "closed"
            continue
        added = 0
        if event == "order.updated" and state in PAID_STATES:
            # Every later transition of a paid order lands here too: a no-op.
            added = _enqueue(db, "sale", order_id, order_uuid, session_id, seq, ts, now)
        elif event == "payment.refunded":
            # The sale first (a no-op when it is there): a refund needs its sale at Odoo.
            added = _enqueue(db, "sale", order_id, order_uuid, session_id, seq, ts, now)
            refund = refund_uuid(order_uuid)
            added += _enqueue(db, "refund", order_id, refund, session_id, seq, ts, now)
        if added:
            enqueued += added
            touched.append(order_id)
    events.set_cursor(db, CONSUMER, rows[-1][0])
    _mark_pending(db, touched)
    return Tail(len(rows), enqueued, len(rows) < limit, session_closed)


def _enqueue(
    db: sqlite_utils.Database,
    kind: str,
    order_id: int,
    key: str,
    session_id: int,
    seq: int,
    ts: str,
    now: str,
) -> int:
    # ON CONFLICT DO NOTHING, not INSERT OR IGNORE: only "already queued" may be
    # skipped; a NOT NULL or foreign key failure must fail the transaction.
    cursor = db.execute(
        "INSERT INTO sync_outbox (kind, order_id, uuid, session_id, state, event_seq, event_ts, "
        "enqueued_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (kind, order_id, key, session_id, seq, ts, now, now),
    )
    return cursor.rowcount


# -- take and record ------------------------------------------------------------------------


def next_batch(db: sqlite_utils.Database, limit: int, after: int = 0) -> list[Item]:
    """The oldest pending rows (past ``after``), in enqueue order; a refund waits for its sale."""
    rows = db.execute(
        "SELECT o.id, o.kind, o.order_id, o.uuid, o.session_id, o.in_flight FROM sync_outbox o "
        "WHERE o.state = 'pending' AND o.id > ? AND (o.kind = 'sale' OR EXISTS (SELECT 1 "
        "FROM sync_outbox s WHERE s.order_id = o.order_id AND s.kind = 'sale' "
        "AND s.state = 'done')) ORDER BY o.id LIMIT ?",
        (after, limit),
    ).fetchall()
    return [Item(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]


def mark_in_flight(db: sqlite_utils.Database, ids: Sequence[int]) -> None:
    """Before sending: if no answer comes back, Odoo is asked about these before a resend."""
    db.conn.executemany(
        "UPDATE sync_outbox SET in_flight = 1, attempts = attempts + 1 WHERE id = ?",
        [(i,) for i in ids],
    )


@dataclass
class Outcome:
    """What became of a batch, by outbox id.

    ``done`` got an Odoo id; ``parked`` was refused (``(error_kind, message)``);
    ``settled`` is known not to be at Odoo (``in_flight`` is cleared); rows in
    none of these stay as they were, to be asked about and sent again.
    """

    done: dict[int, int]
    parked: dict[int, tuple[str, str]]
    settled: set[int]

    @classmethod
    def empty(cls) -> Outcome:
        return cls({}, {}, set())


def record(db: sqlite_utils.Database, outcome: Outcome) -> list[int]:
    """Write a batch's outcome and the orders' sync columns; returns the orders touched."""
    now = now_iso()
    db.conn.executemany(
        "UPDATE sync_outbox SET state = 'done', remote_id = ?, in_flight = 0, error = NULL, "
        "error_kind = NULL, updated_at = ? WHERE id = ?",
        [(remote, now, item) for item, remote in outcome.done.items()],
    )
    db.conn.executemany(
        "UPDATE sync_outbox SET state = 'failed', in_flight = 0, error = ?, error_kind = ?, "
        "updated_at = ? WHERE id = ?",
        [(message, kind, now, item) for item, (kind, message) in outcome.parked.items()],
    )
    settled = outcome.settled - set(outcome.done) - set(outcome.parked)
    db.conn.executemany(
        "UPDATE sync_outbox SET in_flight = 0 WHERE id = ?", [(i,) for i in settled]
    )
    ids = [*outcome.done, *outcome.parked]
    orders = _order_ids(db, ids)
    refresh_orders(db, orders)
    return orders


def _mark_pending(db: sqlite_utils.Database, order_ids: Sequence[int]) -> None:
    """Orders just queued are pending, unless already parked (a refund queued after a parked sale).

    What ``refresh_orders`` would conclude, without its per-order subqueries:
    the tail touches every order once, at a backlog's pace.
    """
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        db.execute(
            "UPDATE orders SET sync_state = 'pending' "
            f"WHERE id IN ({marks}) AND sync_state != 'failed'",
            chunk,
        )


def _order_ids(db: sqlite_utils.Database, item_ids: Sequence[int]) -> list[int]:
    found: list[int] = []
    for start in range(0, len(item_ids), CHUNK):
        chunk = list(item_ids[start : start + CHUNK])
        marks = ",".join("?" * len(chunk))
        found.extend(
            r[0]
            for r in db.execute(
                f"SELECT order_id FROM sync_outbox WHERE id IN ({marks})", chunk
            ).fetchall()
        )
    return found
