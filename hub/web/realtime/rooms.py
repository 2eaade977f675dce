"""Room names and who may join which room.

Rooms (API.md): ``store``, ``session:{id}``, ``kitchen``, ``kitchen:{station}``,
``order:{uuid}``, ``board``, ``devices``. Every event row names the rooms it
belongs to, computed when it was written (``hub.orders.repository.rooms_for``),
so joining a room is all a client needs to see exactly the events of that thing.

Who may join:

========  =====  =====================  ==================================  ===========
role      store  kitchen, kitchen:{s}   session:{id}                        order:{u}
========  =====  =====================  ==================================  ===========
admin     yes    yes                    yes                                 yes
manager   yes    yes                    yes                                 yes
cashier   no     no                     their own sessions, and any open    yes
                                        session (tills are shared)
kitchen   no     yes                    no                                  no
device    no     yes                    no                                  no
========  =====  =====================  ==================================  ===========

``board`` (order numbers and their board state, ``hub.orders.board``) is open
to every role and to a connection without a token (``/ws?view=board``, the
customer screen, whose actor is ``admission.BOARD_VIEW`` with role ``board``,
which this table lets into ``board`` and nothing else): it carries nothing
else, so there is nothing to guard.

``devices`` carries the ``device.status`` events (terminals and displays
coming and going on the WebSocket, kitchen devices on MQTT): what
``GET /api/v1/devices`` lists, so every staff role that may read that list
(``PERMISSIONS["read"]``) may join it. It is a room of its own, not part of
``store``, so that a storm of N ``store`` subscribers connecting is not N²
presence frames (docs/realtime.md, "Presence").

Why a cashier may watch any *open* session: in a restaurant one till's session
is worked by whoever stands at it (a cashier covers another's break), so "own
session" by opener would lock out the person actually selling. The REST API
already lets every staff member read every order, so this shows a cashier
nothing new; what it keeps out is the whole-store feed and closed sessions of
others. ``order:{uuid}`` is open to cashiers because uuids are unguessable and
a till tracks the orders it took.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import sqlite_utils

from hub.auth.roles import MANAGERS, PERMISSIONS, Role
from hub.auth.users import Actor

_ROOM = re.compile(
    r"(?P<kind>store|kitchen|session|order|board|devices)"
    r"(?::(?P<arg>[A-Za-z0-9_-]{1,36}))?"
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class Room:
    """A valid room name, split; ``name`` is canonical (order uuids lower-cased)."""

    name: str
    kind: str
    arg: str | None


def parse_room(name: str) -> Room | None:
    """The room this name denotes, or None when no such room can exist."""
    match = _ROOM.fullmatch(name)
    if match is None:
        return None
    kind, arg = match["kind"], match["arg"]
    if kind in ("store", "board", "devices"):
        return Room(kind, kind, None) if arg is None else None
    if kind == "kitchen":
        if arg is None:
            return Room("kitchen", kind, None)
        return Room(name, kind, arg) if len(arg) <= 32 else None
    if arg is None:
        return None
    if kind == "session":
        if not arg.isdigit() or arg.startswith("0") or len(arg) > 18:
            return None
        return Room(name, kind, arg)
    uuid = arg.lower()
    return Room(f"order:{uuid}", kind, uuid) if _UUID.fullmatch(uuid) else None


class Verdict(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    # A cashier asking for a session room: the answer is in the database.
    CHECK_SESSION = "check_session"


_KITCHEN = frozenset({"kitchen"})
_DEVICE_READERS = PERMISSIONS["read"]


def verdict(actor: Actor, room: Room) -> Verdict:
    """What the role alone says about joining ``room``."""
    role = actor.role
    if room.kind == "board" or role in MANAGERS:
        return Verdict.ALLOW
    if room.kind == "devices":
        return Verdict.ALLOW if role in _DEVICE_READERS else Verdict.DENY
    if role in (Role.KITCHEN, Role.DEVICE):
        return Verdict.ALLOW if room.kind in _KITCHEN else Verdict.DENY
    if role == Role.CASHIER:
        if room.kind == "order":
            return Verdict.ALLOW
        if room.kind == "session":
            return Verdict.CHECK_SESSION
    return Verdict.DENY


def cashier_may_watch(db: sqlite_utils.Database, user_id: int | None, session_id: int) -> bool:
    """A cashier may watch a session they opened, or any session still open."""
    row = db.execute(
        "SELECT user_id, state FROM pos_sessions WHERE id = ?", (session_id,)
    ).fetchone()
    if row is None:
        return False
    owner, state = row
    return bool(state == "open" or (user_id is not None and owner == user_id))
