"""The manager's dashboard numbers the other APIs do not already give, in one snapshot.

Today's orders by state, takings by payment method, the open sessions, the
kitchen's waiting and late tickets, and the last audit events. Devices, sync,
cache and health come from their own routes (``/api/v1/devices``,
``/api/v1/sync/status``, ``/api/v1/cache/stats``, ``/health``): the page reads
those as they are, so there is one answer per question.

"Today" is since midnight on the hub's clock (the store's local time), given
by the caller as a UTC timestamp because that is how every row is stamped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from hub.clock import iso, parse_iso
from hub.orders.money import Money
from hub.settings import Settings

RECENT_AUDIT = 10


def local_midnight_utc(now: datetime | None = None) -> str:
    """Today's local midnight as the UTC text the rows are stamped with."""
    local = (now or datetime.now(UTC)).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return iso(midnight)


def summary(
    db: sqlite_utils.Database, settings: Settings, money: Money, since: str
) -> dict[str, Any]:
    """Every panel of the dashboard that is read from orders, payments and the audit trail."""
    by_state = dict(
        db.execute(
            "SELECT state, COUNT(*) FROM orders WHERE created_at >= ? GROUP BY state", (since,)
        ).fetchall()
    )
    takings = [
        {"method": name, "amount": money.text(int(total)), "count": count}
        for name, total, count in db.execute(
            "SELECT m.name, SUM(CASE p.kind WHEN 'refund' THEN -ABS(p.amount) ELSE p.amount END), "
            "COUNT(*) FROM payments p JOIN payment_methods m ON m.id = p.method_id "
            "WHERE p.created_at >= ? GROUP BY m.id ORDER BY m.name",
            (since,),
        ).fetchall()
    ]
    total = db.execute(
        "SELECT COALESCE(SUM(CASE kind WHEN 'refund' THEN -ABS(amount) ELSE amount END), 0) "
        "FROM payments WHERE created_at >= ?",
        (since,),
    ).fetchone()[0]
    sessions = [
        {"id": sid, "terminal": terminal, "user": user, "opened_at": opened, "orders": orders}
        for sid, terminal, user, opened, orders in db.execute(
            "SELECT s.id, s.terminal, u.name, s.opened_at, s.order_seq FROM pos_sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.state = 'open' ORDER BY s.id"
        ).fetchall()
    ]
    return {
        "since": since,
        "orders_by_state": by_state,
        "takings": takings,
        "takings_total": money.text(int(total)),
        "open_sessions": sessions,
        "kitchen": _kitchen(db, settings),
        "audit": [
            {"at": at, "action": action, "actor": actor, "subject": subject}
            for at, action, actor, subject in db.execute(
                "SELECT at, action, actor, subject FROM audit ORDER BY id DESC LIMIT ?",
                (RECENT_AUDIT,),
            ).fetchall()
        ],
    }


def _kitchen(db: sqlite_utils.Database, settings: Settings) -> dict[str, Any]:
    """Tickets waiting per station, and how many are past the station's late threshold.

    A ticket's age runs from the order's payment (its ``pay`` history row),
    as on the kitchen display.
    """
    now = datetime.now(UTC)
    stations: dict[str, dict[str, int]] = {}
    rows = db.execute(
        "SELECT DISTINCT l.station, o.id, (SELECT h.at FROM order_history h "
        "WHERE h.order_id = o.id AND h.event = 'pay' ORDER BY h.id LIMIT 1) "
        "FROM orders o JOIN order_lines l ON l.order_id = o.id "
        "WHERE o.state IN ('paid', 'preparing') AND l.station IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM kitchen_ready k WHERE k.order_id = o.id "
        "AND k.station = l.station)"
    ).fetchall()
    for station, _order_id, paid_at in rows:
        entry = stations.setdefault(station, {"waiting": 0, "late": 0})
        entry["waiting"] += 1
        if paid_at is not None:
            age = (now - parse_iso(paid_at)).total_seconds()
            if age >= settings.screens.kds_ages(station)[1]:
                entry["late"] += 1
    return {
        "waiting": sum(s["waiting"] for s in stations.values()),
        "late": sum(s["late"] for s in stations.values()),
        "stations": dict(sorted(stations.items())),
    }
