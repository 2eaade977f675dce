"""Order names never repeat, even after a restore puts an older database in place.

An order's name is ``{store}-{session:04d}-{number:04d}``: the session's id and
its ``order_seq``. Both come from the database, so a restored backup would hand
out again the names of every session and order made after the backup was taken,
names that may already be on a printed ticket or in Odoo. ``restore`` reads
what the database being replaced had issued (``issued``) and carries it into
the restored one (``carry_over``): each session keeps the highest number it
ever gave, and new sessions start above the highest session id ever seen
(``session_floor``, read by ``hub.sessions.open_session``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

# When the replaced database cannot be read (it is why we restore), new
# sessions start this far above the backup's highest one: a store opens a
# few sessions a day, so this clears months of sessions the backup never saw.
BLIND_GAP = 1000


@dataclass(frozen=True, slots=True)
class Issued:
    """The names a database had handed out: per session its last number, and its floor."""

    numbers: dict[int, int] = field(default_factory=dict)
    floor: int = 0

    @property
    def highest_session(self) -> int:
        return max([self.floor, *self.numbers])


def issued(conn: sqlite3.Connection) -> Issued:
    """What ``conn``'s database issued; raises sqlite3.Error when it cannot be read."""
    numbers = dict(conn.execute("SELECT id, order_seq FROM pos_sessions").fetchall())
    floor = 0
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'session_floor'").fetchone():
        row = conn.execute("SELECT session_id FROM session_floor WHERE id = 1").fetchone()
        floor = row[0] if row else 0
    return Issued(numbers, floor)


def carry_over(conn: sqlite3.Connection, before: Issued | None) -> int:
    """Raise the restored database's counters past ``before``; returns the new floor.

    ``before`` None: the replaced database could not be read, so the floor is
    put ``BLIND_GAP`` above the highest session the restored file knows.
    ``conn`` must have the ``session_floor`` table (run migrations first).
    """
    restored = issued(conn)
    if before is None:
        floor = restored.highest_session + BLIND_GAP
    else:
        floor = max(before.highest_session, restored.floor)
        conn.executemany(
            "UPDATE pos_sessions SET order_seq = max(order_seq, ?) WHERE id = ?",
            [(number, sid) for sid, number in before.numbers.items()],
        )
    conn.execute(
        "INSERT INTO session_floor (id, session_id) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET session_id = max(session_id, excluded.session_id)",
        (floor,),
    )
    return floor
