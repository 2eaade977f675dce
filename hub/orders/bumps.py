"""Kitchen bumps: a station says it started, finished or recalled its part of an order.

An order is ready when every station with lines on it has bumped ``ready``;
``kitchen_ready`` holds the marks of those that have. Whether the order may
move is the machine's to say (its ``TRANSITIONS``), and every move is
``commands.transition``, so the rules, the history and the events are exactly
those of a till pressing the same button; a refusal leaves nothing behind (the
caller rolls its savepoint or transaction back). The MQTT bridge and the
kitchen display's ``POST /api/v1/kitchen/bumps`` both come here.

Per action:

* ``start``: starts the order; one already preparing is fine (another station started).
* ``ready``: marks the station, once the machine would let the order be ready;
  the last station's mark makes it ``ready``. An order the machine would let
  start is started first (a cook may bump without pressing start). The same
  station bumping again is a no-op.
* ``recall``: unmarks the station; an order the machine would let be recalled
  goes back to ``preparing``.

* BumpRefused (Exception)   code, message and detail of the refusal
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlite_utils

from hub.auth.roles import Role
from hub.auth.users import Actor
from hub.clock import now_iso
from hub.errors import HubError, InvalidTransition
from hub.kitchen_jobs import gone_from_kitchen
from hub.orders import commands, repository
from hub.orders.commands import OrderRules
from hub.orders.machine import TARGETS, TRANSITIONS

BUMP_ACTIONS = ("start", "ready", "recall")


@dataclass(frozen=True, slots=True)
class Bump:
    """A kitchen display moving an order along for its station."""

    order_uuid: str
    action: Literal["start", "ready", "recall"]


@dataclass
class BumpRefused(Exception):
    """The bump cannot be applied; nothing was changed."""

    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def device_actor(station: str) -> Actor:
    """Who a bump is recorded as: the station's KDS, with the device role."""
    return Actor(id=None, role=Role.DEVICE, name=f"kds:{station}")


def apply_bump(
    db: sqlite_utils.Database, rules: OrderRules, station: str, bump: Bump
) -> str | None:
    """Apply one bump in the caller's transaction; returns the order state it left, or None.

    None means the bump changed nothing (a repeat); BumpRefused means it was refused.
    """
    order_id = repository.order_id_by_uuid(db, bump.order_uuid)
    if order_id is None:
        raise BumpRefused("unknown_order", f"no order with uuid {bump.order_uuid}")
    row = repository.load_row(db, order_id)
    assert row is not None
    stations = {line["station"] for line in repository.load_lines(db, order_id) if line["station"]}
    if station not in stations:
        raise BumpRefused(
            "station_not_in_order",
            f"order {row['name']} has nothing for station {station}",
            {"stations": sorted(stations)},
        )
    bumping = _Bumping(db, rules, station, order_id, row["state"], stations)
    try:
        return _ACTIONS[bump.action](bumping)
    except HubError as exc:
        raise BumpRefused(exc.code, exc.message, {**exc.detail, "state": bumping.state}) from exc


@dataclass
class _Bumping:
    """One station's bump of one order, in the caller's transaction."""

    db: sqlite_utils.Database
    rules: OrderRules
    station: str
    order_id: int
    state: str
    stations: set[str]

    def may(self, event: str) -> bool:
        """Whether the machine has a transition for ``event`` out of the order's state.

        Its conditions ask whether the order has kitchen items, which an order a
        station bumps always has; so the transitions alone answer, with no read.
        """
        return (event, self.state) in TRANSITIONS

    def reached(self, event: str) -> bool:
        """Whether the order already stands where ``event`` leads (a station came late)."""
        return self.state == TARGETS[event]

    def require(self, event: str) -> None:
        """Refuse, as the machine would, a bump whose event it would not take now."""
        if not self.may(event):
            allowed = commands.allowed_events(self.db, self.rules, self.order_id)
            raise InvalidTransition(self.state, event, allowed)

    def fire(self, event: str) -> str:
        order = commands.transition(
            self.db, self.rules, device_actor(self.station), self.order_id, event
        )
        self.state = order.state
        return self.state

    @property
    def marked(self) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM kitchen_ready WHERE order_id = ? AND station = ?",
                (self.order_id, self.station),
            ).fetchone()
            is not None
        )

    def mark(self) -> None:
        self.db.execute(
            "INSERT INTO kitchen_ready (order_id, station, at) VALUES (?, ?, ?)",
            (self.order_id, self.station, now_iso()),
        )

    def unmark(self) -> None:
        self.db.execute(
            "DELETE FROM kitchen_ready WHERE order_id = ? AND station = ?",
            (self.order_id, self.station),
        )

    def all_marked(self) -> bool:
        rows = self.db.execute(
            "SELECT station FROM kitchen_ready WHERE order_id = ?", (self.order_id,)
        )
        return self.stations <= {r[0] for r in rows.fetchall()}


def _start(bump: _Bumping) -> str | None:
    if bump.reached("start"):  # another station started it
        return None
    return bump.fire("start")


def _ready(bump: _Bumping) -> str | None:
    marked = bump.marked
    if bump.reached("ready") and marked:
        return None
    if bump.may("start"):  # a cook may bump ready without pressing start
        bump.fire("start")
    bump.require("ready")
    if marked:
        return None
    bump.mark()
    if bump.all_marked():
        return bump.fire("ready")
    return bump.state


def _recall(bump: _Bumping) -> str | None:
    if bump.reached("recall") and bump.marked:  # the order waits for this station again
        bump.unmark()
        return bump.state
    bump.require("recall")
    bump.unmark()
    return bump.fire("recall")


_ACTIONS: dict[str, Callable[[_Bumping], str | None]] = {
    "start": _start,
    "ready": _ready,
    "recall": _recall,
}


def prune_marks(db: sqlite_utils.Database, before: str, abandoned: str, limit: int) -> int:
    """Delete up to ``limit`` ready marks older than ``before`` of orders that are done,
    invoiced or cancelled, and those older than ``abandoned`` whatever the order's state;
    returns how many went. Like a kitchen job, a mark is as old as the later of its own
    time and its order's last change.

    A mark only says which stations of an order still in the kitchen have
    bumped it ready; once the order has left the kitchen for good nothing reads
    it. Marks of orders still preparing or ready are kept until ``abandoned``
    (the kitchen jobs' ``ABANDONED_HOURS``): a station bumping such an order
    a month later bumps it again. The table holds the keep window's marks and
    a month's of orders left in the kitchen, so the scan of it stays cheap.
    """
    return int(
        db.execute(
            "DELETE FROM kitchen_ready WHERE (order_id, station) IN (SELECT r.order_id, "
            "r.station FROM kitchen_ready r JOIN orders o ON o.id = r.order_id "
            f"WHERE {gone_from_kitchen('r.at')} ORDER BY r.at LIMIT ?3)",
            (before, abandoned, limit),
        ).rowcount
    )
