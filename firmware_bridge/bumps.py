"""KDS bumps: a station says it started, finished or recalled its part of an order.

An order is ready when every station with lines on it has bumped ``ready``;
``kitchen_ready`` records which have. All changes of the order itself go
through ``hub.orders.service.transition``, so the rules, the history and the
events are exactly those of a till pressing the same button, and a refusal
leaves nothing behind (the caller rolls its savepoint back).

Per action, from the order's state:

* ``start``: paid → preparing; already preparing is fine (another station started).
* ``ready``: marks the station; the last station makes the order ``ready``. A
  ``paid`` order is started first (a cook may bump without pressing start).
  The same station bumping again is a no-op.
* ``recall``: unmarks the station; a ``ready`` order goes back to ``preparing``.

Anything else is refused with ``BumpRefused`` and answered on the station's
errors topic; it is never applied.

* BumpRefused (Exception)   code, message and detail of the refusal
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from firmware_bridge import jobs
from firmware_bridge.messages import Bump
from hub.auth.roles import Role
from hub.auth.users import Actor
from hub.clock import now_iso
from hub.errors import HubError, InvalidTransition
from hub.orders import repository, service
from hub.orders.service import OrderRules


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

    None means the bump changed nothing (a repeat); BumpRefused means it was illegal.
    """
    order_id = repository.order_id_by_uuid(db, bump.order_uuid)
    if order_id is None:
        raise BumpRefused("unknown_order", f"no order with uuid {bump.order_uuid}")
    row = repository.load_row(db, order_id)
    assert row is not None
    state: str = row["state"]
    stations = {line["station"] for line in repository.load_lines(db, order_id) if line["station"]}
    if station not in stations:
        raise BumpRefused(
            "station_not_in_order",
            f"order {row['name']} has nothing for station {station}",
            {"stations": sorted(stations)},
        )
    marked = _is_marked(db, order_id, station)
    try:
        if bump.action == "start":
            if state == "preparing":
                return None
            return _fire(db, rules, station, order_id, "start")
        if bump.action == "ready":
            if state == "ready" and marked:
                return None
            if state == "paid":
                state = _fire(db, rules, station, order_id, "start")
            if state != "preparing":
                raise InvalidTransition(state, "ready", service.allowed_events(db, rules, order_id))
            if marked:
                return None
            db.execute(
                "INSERT INTO kitchen_ready (order_id, station, at) VALUES (?, ?, ?)",
                (order_id, station, now_iso()),
            )
            if stations <= _marked_stations(db, order_id):
                return _fire(db, rules, station, order_id, "ready")
            return state
        # recall
        if state == "preparing" and marked:
            _unmark(db, order_id, station)
            return state
        if state != "ready":
            raise InvalidTransition(state, "recall", service.allowed_events(db, rules, order_id))
        _unmark(db, order_id, station)
        return _fire(db, rules, station, order_id, "recall")
    except HubError as exc:
        raise BumpRefused(exc.code, exc.message, {**exc.detail, "state": state}) from exc


def _fire(
    db: sqlite_utils.Database, rules: OrderRules, station: str, order_id: int, event: str
) -> str:
    order = service.transition(db, rules, device_actor(station), order_id, event)
    return order.state


def _is_marked(db: sqlite_utils.Database, order_id: int, station: str) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM kitchen_ready WHERE order_id = ? AND station = ?", (order_id, station)
        ).fetchone()
        is not None
    )


def _marked_stations(db: sqlite_utils.Database, order_id: int) -> set[str]:
    rows = db.execute("SELECT station FROM kitchen_ready WHERE order_id = ?", (order_id,))
    return {r[0] for r in rows.fetchall()}


def _unmark(db: sqlite_utils.Database, order_id: int, station: str) -> None:
    db.execute("DELETE FROM kitchen_ready WHERE order_id = ? AND station = ?", (order_id, station))


def prune_marks(db: sqlite_utils.Database, before: str, abandoned: str, limit: int) -> int:
    """Delete up to ``limit`` ready marks older than ``before`` of orders that are done,
    invoiced or cancelled, and those older than ``abandoned`` whatever the order's state;
    returns how many went. Like a kitchen job, a mark is as old as the later of its own
    time and its order's last change.

    A mark only says which stations of an order still in the kitchen have
    bumped it ready; once the order has left the kitchen for good nothing reads
    it. Marks of orders still preparing or ready are kept until ``abandoned``
    (``firmware_bridge.jobs.ABANDONED_HOURS``): a station bumping such an order
    a month later bumps it again. The table holds the keep window's marks and
    a month's of orders left in the kitchen, so the scan of it stays cheap.
    """
    return int(
        db.execute(
            "DELETE FROM kitchen_ready WHERE (order_id, station) IN (SELECT r.order_id, "
            "r.station FROM kitchen_ready r JOIN orders o ON o.id = r.order_id "
            f"WHERE {jobs.gone_from_kitchen('r.at')} ORDER BY r.at LIMIT ?3)",
            (before, abandoned, limit),
        ).rowcount
    )


def ready_board(db: sqlite_utils.Database) -> list[int]:
    """Numbers of the orders waiting at the pass, longest waiting first."""
    rows = db.execute(
        "SELECT number FROM orders WHERE state = 'ready' ORDER BY updated_at, id"
    ).fetchall()
    return [int(r[0]) for r in rows]
