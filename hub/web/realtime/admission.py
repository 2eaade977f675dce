"""Whether a signed-in client may join a room now, read in one snapshot of the database.

A subscribe re-reads the user (a deactivated one is closed with 4403), a
cashier's right to a session room, and the log's bounds (for ``since``): a
handful of rows by key, whatever the room's size, so it runs on the event
loop (``Store.read_small``) and a storm of subscribes is not a storm of
reader-thread hops.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from hub.auth.users import Actor, get_actor
from hub.web.realtime import records, rooms

# Who a token-less customer board (``/ws?view=board``) is: it may join ``board`` only.
BOARD_VIEW = Actor(id=None, role="board", name="board view")


@dataclass(frozen=True, slots=True)
class Admission:
    """The user as they are now (None: no longer active), the verdict, the log's bounds."""

    actor: Actor | None
    allowed: bool
    bounds: records.Bounds
    rows: int  # rows read: the user, the session when asked, the log's two bounds


def admit(db: sqlite_utils.Database, who: Actor, room: rooms.Room) -> Admission:
    """In one snapshot: the user as they are now, whether they may join, what the log holds."""
    if who is BOARD_VIEW:
        actor: Actor | None = who
    else:
        actor = get_actor(db, who.id) if who.id is not None else None
    allowed = False
    rows = 3
    if actor is not None:
        verdict = rooms.verdict(actor, room)
        if verdict is rooms.Verdict.CHECK_SESSION and room.arg is not None:
            rows += 1
            allowed = rooms.cashier_may_watch(db, actor.id, int(room.arg))
        else:
            allowed = verdict is rooms.Verdict.ALLOW
    return Admission(actor, allowed, records.bounds(db), rows)
