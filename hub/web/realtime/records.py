"""The event log as the fan-out reads it: pages and bounds, one snapshot per call.

The rows are ``hub.events.Event``, whose ``data`` stays the stored JSON text:
the fan-out only forwards it, splicing it into frames
(``protocol.event_frame``). Every function here takes a ``sqlite_utils``
database and is meant for ``Store.read`` (or, for a ``tail`` of a few rows,
``Store.read_small``), where one call sees one snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from hub import events
from hub.events import Event


def tail(db: sqlite_utils.Database, after: int, limit: int) -> list[Event]:
    """Events with ``seq > after``, oldest first."""
    return events.read_since(db, after, limit)


@dataclass(frozen=True, slots=True)
class RoomPage:
    """Events of one room after a seq, and how far the log was read to find them.

    ``scanned_to`` is the seq up to which every event of the room is in
    ``records``: the last record's seq when the page is full, else the log's
    head in the same snapshot. A replay resumes from it.
    """

    records: list[Event]
    scanned_to: int


def room_page(db: sqlite_utils.Database, room: str, after: int, limit: int) -> RoomPage:
    """Up to ``limit`` events of ``room`` with ``seq > after``, oldest first."""
    records = events.read_room(db, room, after, limit)
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


def recent_of(db: sqlite_utils.Database, event: str, window: int) -> list[Event]:
    """Events named ``event`` among the last ``window`` seqs of the log, oldest first."""
    return events.read_named(db, event, events.head(db) - window)
