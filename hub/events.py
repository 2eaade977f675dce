"""The one log: append an event in the caller's transaction, tail it, keep cursors, prune it.

All SQL on the ``events`` and ``cursors`` tables is here, and one record type
comes out: ``Event``, whose ``data`` is the JSON text as stored. The
WebSocket fan-out splices that text into frames without parsing it; REST
answers and the kitchen's intake parse it (``Event.body``). Tails that need
a few fields of many events take a projection instead (``extract``), so
SQLite picks the fields and bodies nobody reads are never parsed in Python.

``events.seq`` is AUTOINCREMENT so a sequence number is never reused, even
after the oldest rows are pruned. Writers hold the write lock from BEGIN
IMMEDIATE to COMMIT, so rows become visible in ``seq`` order and a consumer
that reads ``seq > cursor`` never misses a row committed later.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
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


class Event(msgspec.Struct, frozen=True, gc=False):
    """One row of ``events``; ``data`` is the stored JSON text (compact, written by ``append``).

    gc=False: the fields are ints, strings and a tuple of strings, which can
    hold no reference cycle, so a catch-up of thousands costs the collector nothing.
    """

    seq: int
    event: str
    ts: str
    rooms: tuple[str, ...]
    data: str

    def body(self) -> dict[str, Any]:
        """``data`` parsed."""
        parsed: dict[str, Any] = json.loads(self.data)
        return parsed

    def as_public(self) -> dict[str, Any]:
        """The record API.md promises for ``GET /events`` and WebSocket frames."""
        return {"seq": self.seq, "event": self.event, "ts": self.ts, "data": self.body()}


_encode = msgspec.json.Encoder().encode  # compact UTF-8 JSON, several times json.dumps' speed


def _check_append(db: sqlite_utils.Database, event: str, caller: str) -> None:
    """An event is a known name, written in the transaction of the change it records."""
    if event not in EVENT_NAMES:
        raise ValueError(f"unknown event name {event!r}")
    if not db.conn.in_transaction:
        raise RuntimeError(f"events.{caller} must run inside the transaction of the change")


def append(
    db: sqlite_utils.Database,
    event: str,
    data: dict[str, Any] | msgspec.Struct,
    rooms: Iterable[str],
) -> int:
    """Append one event inside the caller's open transaction; returns its seq.

    ``data`` is stored as JSON: a Struct (an order, a session) as it is served.
    """
    _check_append(db, event, "append")
    room_list = " ".join(dict.fromkeys(rooms))
    cursor = db.execute(
        "INSERT INTO events (event, ts, rooms, data) VALUES (?, ?, ?, ?)",
        (event, now_iso(), room_list, _encode(data).decode()),
    )
    seq = cursor.lastrowid
    assert seq is not None
    return seq


def append_many(
    db: sqlite_utils.Database,
    event: str,
    datas: Sequence[dict[str, Any] | msgspec.Struct],
    rooms: Iterable[str],
) -> None:
    """Append one event per item of ``datas``, in order, inside the caller's open transaction.

    One statement for the lot (they share a name, rooms and ``ts``): a storm of
    reconnecting devices writes hundreds of ``device.status`` at once.
    """
    _check_append(db, event, "append_many")
    room_list = " ".join(dict.fromkeys(rooms))
    ts = now_iso()
    db.conn.executemany(
        "INSERT INTO events (event, ts, rooms, data) VALUES (?, ?, ?, ?)",
        [(event, ts, room_list, _encode(data).decode()) for data in datas],
    )


_COLUMNS = "seq, event, ts, rooms, data"


def _event(row: tuple[int, str, str, str, str]) -> Event:
    seq, event, ts, rooms, data = row
    return Event(seq, event, ts, tuple(rooms.split()), data)


def read_since(db: sqlite_utils.Database, since: int, limit: int = 500) -> list[Event]:
    """Events with ``seq > since``, oldest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit)
    ).fetchall()
    return [_event(r) for r in rows]


def read_room(db: sqlite_utils.Database, room: str, after: int, limit: int) -> list[Event]:
    """Up to ``limit`` events of ``room`` with ``seq > after``, oldest first."""
    # instr on the space-padded list rather than LIKE: station names may hold
    # "_", which LIKE would take for a wildcard.
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM events WHERE seq > ? AND instr(' ' || rooms || ' ', ?) > 0 "
        "ORDER BY seq LIMIT ?",
        (after, f" {room} ", limit),
    ).fetchall()
    return [_event(r) for r in rows]


def read_named(db: sqlite_utils.Database, event: str, after: int) -> list[Event]:
    """Every event named ``event`` with ``seq > after``, oldest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM events WHERE seq > ? AND event = ? ORDER BY seq",
        (after, event),
    ).fetchall()
    return [_event(r) for r in rows]


def ts_after(db: sqlite_utils.Database, seq: int) -> str | None:
    """When the first event after ``seq`` was written; None when there is none."""
    row = db.execute("SELECT ts FROM events WHERE seq > ? ORDER BY seq LIMIT 1", (seq,)).fetchone()
    return str(row[0]) if row else None


@dataclass(frozen=True, slots=True)
class Field:
    """One value ``extract`` takes from each event: for the events named in a case,
    the JSON at that case's path in ``data`` (``"$"``: the stored text itself).

    ``Field.of("$.id", "order.updated").orelse("$.order_id", "payment.refunded")`` is
    one column holding an order's id from either event; a case naming no event
    applies to all.
    """

    cases: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def of(cls, path: str, *names: str) -> Field:
        return cls(((path, names),))

    def orelse(self, path: str, *names: str) -> Field:
        return Field((*self.cases, (path, names)))

    def sql(self) -> str:
        # Paths and names are the code's constants, checked here: the SQL is
        # built from constant fragments only, as everywhere else.
        whens = []
        for path, names in self.cases:
            if path != "$" and not _PATH.match(path):
                raise ValueError(f"not a plain JSON path: {path!r}")
            unknown = set(names) - set(EVENT_NAMES)
            if unknown:
                raise ValueError(f"unknown event names {sorted(unknown)}")
            value = "data" if path == "$" else f"json_extract(data, '{path}')"
            if not names:
                if len(self.cases) > 1:
                    raise ValueError("only a field of one case may apply to every event")
                return value
            quoted = ", ".join(f"'{name}'" for name in names)
            test = f"event = {quoted}" if len(names) == 1 else f"event IN ({quoted})"
            whens.append(f"WHEN {test} THEN {value}")
        return f"CASE {' '.join(whens)} END"


_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def extract(
    db: sqlite_utils.Database,
    after: int,
    fields: Sequence[Field],
    *,
    limit: int,
    upto: int | None = None,
    names: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """``(seq, event, ts, *values)`` of the events with ``seq > after`` (and ``<= upto``,
    named in ``names`` when given), oldest first: one value per field.

    A projection, not a record: the tails that read many events for a few
    fields each (the sync outbox, the catalogue's upkeep) let SQLite pick
    them, so an ``order.created`` body nobody needs is never parsed.
    """
    picks = "".join(f", {field.sql()}" for field in fields)
    where = "seq > ?"
    params: list[Any] = [after]
    if upto is not None:
        where += " AND seq <= ?"
        params.append(upto)
    if names:
        where += f" AND event IN ({','.join('?' * len(names))})"
        params.extend(names)
    rows: list[tuple[Any, ...]] = db.execute(
        f"SELECT seq, event, ts{picks} FROM events WHERE {where} ORDER BY seq LIMIT ?",
        (*params, limit),
    ).fetchall()
    return rows


def head(db: sqlite_utils.Database) -> int:
    """The highest seq ever allocated (0 for an empty log), pruned rows included."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    return int(row[0]) if row else 0


def probe(db: sqlite_utils.Database) -> None:
    """Read the log's first row: raises the database's error when it cannot answer."""
    db.execute("SELECT 1 FROM events LIMIT 1").fetchall()


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


def prune(db: sqlite_utils.Database, bound: int, before: str, limit: int) -> int:
    """Delete up to ``limit`` events, oldest first, with ``seq <= bound`` written before ``before``.

    ``ts`` is written by ``now_iso()`` in seq order by one writer at a time, so
    the ISO strings compare in time order; the seq range bounds the scan.
    """
    return int(
        db.execute(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= ? AND ts < ? "
            "ORDER BY seq LIMIT ?)",
            (bound, before, limit),
        ).rowcount
    )
