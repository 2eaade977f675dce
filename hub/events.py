"""The one log: append an event in the caller's transaction, tail it, keep cursors.

``events.seq`` is AUTOINCREMENT so a sequence number is never reused, even
after the oldest rows are pruned. Writers hold the write lock from BEGIN
IMMEDIATE to COMMIT, so rows become visible in ``seq`` order and a consumer
that reads ``seq > cursor`` never misses a row committed later.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlite_utils

from hub.clock import now_iso

EVENT_NAMES = (
    "order.created",
    "order.updated",
    "payment.processed",
    "payment.refunded",
    "session.updated",
    "kitchen.order_ready",
    "catalog.updated",
    "device.status",
    "sync.status",
    "board.updated",
)


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    event: str
    ts: str
    rooms: tuple[str, ...]
    data: dict[str, Any]

    def as_public(self) -> dict[str, Any]:
        """The record API.md promises for ``GET /events`` and WebSocket frames."""
        return {"seq": self.seq, "event": self.event, "ts": self.ts, "data": self.data}


_encode = msgspec.json.Encoder().encode  # compact UTF-8 JSON, several times json.dumps' speed


def append(
    db: sqlite_utils.Database,
    event: str,
    data: dict[str, Any] | msgspec.Struct,
    rooms: Iterable[str],
) -> int:
    """Append one event inside the caller's open transaction; returns its seq.

    ``data`` is stored as JSON: a Struct (an order, a session) as it is served.
    """
    if event not in EVENT_NAMES:
        raise ValueError(f"unknown event name {event!r}")
    if not db.conn.in_transaction:
        raise RuntimeError("events.append must run inside the transaction of the change")
    room_list = " ".join(dict.fromkeys(rooms))
    cursor = db.execute(
        "INSERT INTO events (event, ts, rooms, data) VALUES (?, ?, ?, ?)",
        (event, now_iso(), room_list, _encode(data).decode()),
    )
    seq = cursor.lastrowid
    assert seq is not None
    return seq


def _row_to_event(row: tuple[Any, ...]) -> Event:
    seq, event, ts, rooms, data = row
    return Event(seq, event, ts, tuple(rooms.split()), json.loads(data))


def read_since(db: sqlite_utils.Database, since: int, limit: int = 500) -> list[Event]:
    """Events with ``seq > since``, oldest first."""
    rows = db.execute(
        "SELECT seq, event, ts, rooms, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        (since, limit),
    ).fetchall()
    return [_row_to_event(r) for r in rows]


def head(db: sqlite_utils.Database) -> int:
    """The highest seq ever allocated (0 for an empty log), pruned rows included."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    return int(row[0]) if row else 0


def oldest(db: sqlite_utils.Database) -> int | None:
    row = db.execute("SELECT MIN(seq) FROM events").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def get_cursor(db: sqlite_utils.Database, consumer: str) -> int:
    row = db.execute("SELECT seq FROM cursors WHERE consumer = ?", (consumer,)).fetchone()
    return int(row[0]) if row else 0


def set_cursor(db: sqlite_utils.Database, consumer: str, seq: int) -> None:
    """Advance a consumer's durable cursor; call it in the transaction of the work done."""
    db.execute(
        "INSERT INTO cursors (consumer, seq, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
        (consumer, seq, now_iso()),
    )


def cursors(db: sqlite_utils.Database) -> dict[str, int]:
    return {c: int(s) for c, s in db.execute("SELECT consumer, seq FROM cursors").fetchall()}
