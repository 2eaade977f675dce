"""The event log as the fan-out reads it: rows kept as stored, one snapshot per call.

``hub.events`` parses ``data`` into dicts for REST answers; the fan-out only
forwards it, so it keeps the stored JSON text and splices it into frames
(``protocol.event_frame``). Every function here takes a ``sqlite_utils``
database and is meant for ``Store.read`` (or, for a ``tail`` of a few rows,
``Store.read_small``), where one call sees one snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from hub import events

_COLUMNS = "seq, event, ts, rooms, data"


@dataclass(frozen=True, slots=True)
class Record:
    """One row of ``events``; ``data`` is the stored JSON text."""

    seq: int
    event: str
    ts: str
    rooms: tuple[str, ...]
    data: str


def _record(row: tuple[int, str, str, str, str]) -> Record:
    seq, event, ts, rooms, data = row
    return Record(seq, event, ts, tuple(rooms.split()), data)


def tail(db: sqlite_utils.Database, after: int, limit: int) -> list[Record]:
    """Events with ``seq > after``, oldest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
    ).fetchall()
    return [_record(r) for r in rows]


@dataclass(frozen=True, slots=True)
class RoomPage:
    """Events of one room after a seq, and how far the log was read to find them.

    ``scanned_to`` is the seq up to which every event of the room is in
    ``records``: the last record's seq when the page is full, else the log's
    head in the same snapshot. A replay resumes from it.
    """

    records: list[Record]
    scanned_to: int


def room_page(db: sqlite_utils.Database, room: str, after: int, limit: int) -> RoomPage:
    """Up to ``limit`` events of ``room`` with ``seq > after``, oldest first."""
    # instr on the space-padded list rather than LIKE: station names may hold
    # "_", which LIKE would take for a wildcard.
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM events WHERE seq > ? AND instr(' ' || rooms || ' ', ?) > 0 "
        "ORDER BY seq LIMIT ?",
        (after, f" {room} ", limit),
    ).fetchall()
    records = [_record(r) for r in rows]
    if len(records) == limit:
        return RoomPage(records, records[-1].seq)
    return RoomPage(records, max(after, events.head(db)))


@dataclass(frozen=True, slots=True)
class Bounds:
    """What the log holds: ``oldest`` row still kept (None when empty), ``head`` ever allocated."""

    oldest: int | None
    head: int

    def holds_after(self, since: int) -> bool:
        """Whether every event after ``since`` is still in the log (none pruned, none unknown)."""
        if since > self.head:
            return False  # a seq this database never issued: the client saw another log
        if self.oldest is None:
            return since == self.head
        return since >= self.oldest - 1


def bounds(db: sqlite_utils.Database) -> Bounds:
    return Bounds(events.oldest(db), events.head(db))


def recent_of(db: sqlite_utils.Database, event: str, window: int) -> list[Record]:
    """Events named ``event`` among the last ``window`` seqs of the log, oldest first."""
    head = events.head(db)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM events WHERE seq > ? AND event = ? ORDER BY seq",
        (head - window, event),
    ).fetchall()
    return [_record(r) for r in rows]
