"""What a kitchen display reads: the open tickets of its stations, in one snapshot.

A ticket is an order that is paid or being prepared and has lines for the
station, unless the station has already bumped its part ready (the order
waits for the other stations then). The answer carries the log's head read
in the same snapshot, so the screen subscribes to ``kitchen:{station}`` with
``since`` = that head and misses nothing in between, and each station's age
thresholds (``Settings.kds_ages``), so the screen colours tickets as the
store configured.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from hub import events
from hub.orders import repository
from hub.orders.models import KitchenTicket
from hub.orders.money import Money
from hub.settings import Settings

MAX_TICKETS = 500  # a kitchen with more open tickets than this has other problems


def open_tickets(
    db: sqlite_utils.Database, settings: Settings, money: Money, stations: list[str]
) -> dict[str, Any]:
    """Open orders with lines for any of ``stations`` not yet bumped there, oldest first,
    with the stations that already bumped each one (``ready_stations``) and the log
    head ``seq``."""
    marks = ",".join("?" * len(stations))
    rows = db.execute(
        f"SELECT DISTINCT o.id FROM orders o JOIN order_lines l ON l.order_id = o.id "
        f"WHERE o.state IN ('paid', 'preparing') AND l.station IN ({marks}) "
        "AND NOT EXISTS (SELECT 1 FROM kitchen_ready k WHERE k.order_id = o.id "
        "AND k.station = l.station) "
        f"ORDER BY o.id LIMIT ?",
        (*stations, MAX_TICKETS),
    ).fetchall()
    tickets = []
    for (order_id,) in rows:
        order = repository.get_order(db, money, order_id)
        if order is None:
            continue
        tickets.append(KitchenTicket.of(order, ready_stations(db, order_id)))
    return {
        "tickets": tickets,
        "seq": events.head(db),
        "ages": {s: _ages(settings, s) for s in stations},
    }


def _ages(settings: Settings, station: str) -> dict[str, float]:
    warn, late = settings.screens.kds_ages(station)
    return {"warn": warn, "late": late}


def ready_stations(db: sqlite_utils.Database, order_id: int) -> list[str]:
    """The stations that have bumped their part of the order ready."""
    rows = db.execute(
        "SELECT station FROM kitchen_ready WHERE order_id = ? ORDER BY station", (order_id,)
    ).fetchall()
    return [r[0] for r in rows]


def known_stations(db: sqlite_utils.Database) -> list[str]:
    """Stations the catalogue sends lines to, for the screen's station picker."""
    rows = db.execute(
        "SELECT DISTINCT station FROM products WHERE station IS NOT NULL AND station != '' "
        "ORDER BY station"
    ).fetchall()
    return [r[0] for r in rows]


def station_products(db: sqlite_utils.Database, stations: list[str]) -> list[dict[str, Any]]:
    """The products the stations prepare, with whether they are on sale (not 86'd)."""
    marks = ",".join("?" * len(stations))
    rows = db.execute(
        f"SELECT id, name, station, active FROM products WHERE station IN ({marks}) "
        "AND sale_ok = 1 ORDER BY station, name",
        stations,
    ).fetchall()
    return [
        {"id": pid, "name": name, "station": station, "available": bool(active)}
        for pid, name, station, active in rows
    ]


def kitchen_item(db: sqlite_utils.Database, product_id: int) -> str | None:
    """The station of a product, None when it is no kitchen item (or does not exist)."""
    row = db.execute("SELECT station FROM products WHERE id = ?", (product_id,)).fetchone()
    return row[0] if row and row[0] else None
