"""The customer order-ready board: order numbers and their state, nothing else.

A customer screen needs no login, so what it reads must carry nothing a
customer may not see: no amounts, no names, no lines. Rather than filtering
order events on their way out, the order service writes a separate small
``board.updated`` event (``{"number", "state"}``, rooms ``board`` and ``store``) when an
order with kitchen items changes its place on the board; the room replays and
resumes with ``since`` like any other, and the fan-out stays untouched.

Board states: ``preparing`` (paid or being prepared), ``ready`` (at the
pass), ``gone`` (collected, invoiced or cancelled: the number leaves).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from hub import events
from hub.orders.models import Order

ROOM = "board"
_PLACE = {
    "paid": "preparing",
    "preparing": "preparing",
    "ready": "ready",
    "done": "gone",
    "invoiced": "gone",
    "cancelled": "gone",
}


def place(state: str) -> str | None:
    """Where an order in ``state`` stands on the board; None before it is paid."""
    return _PLACE.get(state)


def record_move(db: sqlite_utils.Database, order: Order, src: str) -> None:
    """Append ``board.updated`` when ``order`` (just moved from ``src``) changed place.

    Only orders with kitchen items are on the board; an order paid and
    completed at once (nothing to prepare) never shows.
    """
    if not any(line.station for line in order.lines):
        return
    before, after = place(src), place(order.state)
    if after is None or after == before or (before is None and after == "gone"):
        return
    # Also in ``store``, which carries every event of the log (docs/realtime.md).
    events.append(db, "board.updated", {"number": order.number, "state": after}, [ROOM, "store"])


def ready_numbers(db: sqlite_utils.Database) -> list[int]:
    """Numbers of the orders waiting at the pass, longest waiting first (the kitchen's board)."""
    rows = db.execute(
        "SELECT number FROM orders WHERE state = 'ready' ORDER BY updated_at, id"
    ).fetchall()
    return [int(r[0]) for r in rows]


def snapshot(db: sqlite_utils.Database, ready_seconds: float) -> dict[str, Any]:
    """Numbers preparing and ready now, and the log's head in the same snapshot.

    A board loads this, then subscribes to ``board`` with ``since`` = ``seq``:
    nothing falls between the two. Ready numbers older than ``ready_seconds``
    are left out (nobody came for them; the screen drops them the same way).
    """
    rows = db.execute(
        "SELECT o.number, o.state, o.updated_at FROM orders o "
        "WHERE o.state IN ('paid', 'preparing', 'ready') "
        "AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id "
        "AND l.station IS NOT NULL) "
        "AND (o.state != 'ready' OR o.updated_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)) "
        "ORDER BY o.updated_at, o.id",
        (f"-{ready_seconds} seconds",),
    ).fetchall()
    preparing = [int(n) for n, state, _ in rows if state != "ready"]
    ready = [{"number": int(n), "since": at} for n, state, at in rows if state == "ready"]
    return {
        "preparing": preparing,
        "ready": ready,
        "ready_seconds": ready_seconds,
        "seq": events.head(db),
    }
