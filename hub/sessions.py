"""POS sessions: a till's shift, from opening cash to closing count.

A closed session takes no new orders. Closing is refused while the session
still holds unpaid orders (draft or validated): they would be stranded.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import sqlite_utils

from hub import events
from hub.auth.users import Actor
from hub.clock import now_iso
from hub.errors import Conflict, Forbidden, NotFound, RuleFailed
from hub.orders.models import Amount
from hub.orders.money import Money


class Session(msgspec.Struct):
    """A session as the session routes answer it and ``session.updated`` carries it."""

    id: int
    terminal: str
    user_id: int
    state: Literal["open", "closed"]
    opening_cash: Amount
    closing_cash: Amount | None
    order_count: int
    opened_at: str
    closed_at: str | None
    remote_id: int | None


class ClosedSession(Session):
    """A session just closed, with the unpaid orders cancelled with it (``cancel_unpaid``)."""

    cancelled_orders: list[int]


def _public(row: tuple[Any, ...], money: Money) -> Session:
    sid, terminal, user_id, state, opening, closing, count, opened_at, closed_at, remote = row
    return Session(
        sid,
        terminal,
        user_id,
        state,
        money.text(opening),
        money.text(closing) if closing is not None else None,
        count,
        opened_at,
        closed_at,
        remote,
    )


_COLUMNS = (
    "id, terminal, user_id, state, opening_cash, closing_cash, order_seq, opened_at, "
    "closed_at, remote_id"
)


def get_session(db: sqlite_utils.Database, money: Money, session_id: int) -> Session:
    row = db.execute(f"SELECT {_COLUMNS} FROM pos_sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise NotFound(f"session {session_id} does not exist", {"session_id": session_id})
    return _public(row, money)


def list_sessions(
    db: sqlite_utils.Database,
    money: Money,
    *,
    state: str | None,
    terminal: str | None,
    limit: int,
    before: int | None,
) -> list[Session]:
    """Sessions, newest first: how a restarted till finds the session it left open."""
    where: list[str] = ["1 = 1"]
    params: list[str | int] = []
    for column, value in (("state", state), ("terminal", terminal)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if before is not None:
        where.append("id < ?")
        params.append(before)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM pos_sessions WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [_public(row, money) for row in rows]


def unpaid_orders(db: sqlite_utils.Database, session_id: int) -> list[int]:
    """The orders that keep a session from closing: not yet paid, not cancelled."""
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM orders WHERE session_id = ? AND state IN ('draft', 'validated') "
            "ORDER BY id",
            (session_id,),
        ).fetchall()
    ]


def open_rooms(db: sqlite_utils.Database) -> list[str]:
    """The ``session:{id}`` room of every open session, oldest first: where tills listen.

    Not capped: a room left out is a till that never hears of the change. A
    store has a handful of tills, so this is a few rows; a store that forgets
    to close sessions makes the list (and the events carrying it) longer, about
    15 bytes per session, never wrong.
    """
    rows = db.execute("SELECT id FROM pos_sessions WHERE state = 'open' ORDER BY id").fetchall()
    return [f"session:{r[0]}" for r in rows]


def open_session(
    db: sqlite_utils.Database, money: Money, actor: Actor, *, terminal: str, opening_cash: int
) -> Session:
    # Who may is the route's guard to decide (``PERMISSIONS["till"]``); a session is
    # still always someone's, never the hub's own.
    if actor.id is None:
        raise Forbidden(f"a {actor.role} may not open a session", {"role": actor.role})
    # The id is above any a restored-over database issued (hub.order_names): it
    # is part of every order name of the session.
    cursor = db.execute(
        "INSERT INTO pos_sessions (id, terminal, user_id, state, opening_cash, opened_at) "
        "VALUES (max(coalesce((SELECT max(id) FROM pos_sessions), 0), "
        "coalesce((SELECT session_id FROM session_floor WHERE id = 1), 0)) + 1, "
        "?, ?, 'open', ?, ?)",
        (terminal, actor.id, opening_cash, now_iso()),
    )
    assert cursor.lastrowid is not None
    session = get_session(db, money, cursor.lastrowid)
    events.append(db, "session.updated", session, ["store", f"session:{session.id}"])
    return session


def close_session(
    db: sqlite_utils.Database, money: Money, actor: Actor, session_id: int, *, closing_cash: int
) -> Session:
    """Close an open session at its counted cash; the route's guard decides who may."""
    session = get_session(db, money, session_id)
    if session.state != "open":
        raise Conflict(
            "session_closed", f"session {session_id} is already closed", {"session_id": session_id}
        )
    unpaid = unpaid_orders(db, session_id)
    if unpaid:
        raise RuleFailed(
            "session_has_unpaid_orders",
            f"session {session_id} still has {len(unpaid)} unpaid order(s): pay or cancel "
            'them, or close with "cancel_unpaid": true to cancel them in the same call',
            order_ids=unpaid[:50],
        )
    db.execute(
        "UPDATE pos_sessions SET state = 'closed', closing_cash = ?, closed_at = ? "
        "WHERE id = ? AND state = 'open'",
        (closing_cash, now_iso(), session_id),
    )
    session = get_session(db, money, session_id)
    events.append(db, "session.updated", session, ["store", f"session:{session_id}"])
    return session
