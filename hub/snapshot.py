"""The hub's numbers, read in one SQLite snapshot: for ``/metrics`` and ``edgehub status``.

Every table read here is part of the schema (``hub.db.migrations``); the
kitchen, audit and job tables are checked for because ``edgehub status`` may
look at a database whose latest migrations are still pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from hub import events
from hub.audit import chain
from hub.periodic.scheduler import read_status


@dataclass
class Snapshot:
    orders_by_state: dict[str, int] = field(default_factory=dict)
    orders_by_sync_state: dict[str, int] = field(default_factory=dict)
    open_sessions: int = 0
    events_head: int = 0
    events_oldest: int | None = None
    cursors: dict[str, int] = field(default_factory=dict)
    kitchen_jobs: dict[str, int] = field(default_factory=dict)  # by job state
    devices_online: int = 0
    devices_total: int = 0
    audit_rows: int = 0
    audit_head: str = chain.GENESIS
    jobs: list[dict[str, Any]] = field(default_factory=list)


def _grouped(db: sqlite_utils.Database, sql: str) -> dict[str, int]:
    return {str(k): int(n) for k, n in db.execute(sql).fetchall()}


def _columns(db: sqlite_utils.Database, table: str) -> set[str] | None:
    rows = db.execute(f"PRAGMA table_info({table})").fetchall()
    return {r[1] for r in rows} if rows else None


def read(db: sqlite_utils.Database) -> Snapshot:
    snap = Snapshot()
    snap.orders_by_state = _grouped(db, "SELECT state, COUNT(*) FROM orders GROUP BY state")
    snap.orders_by_sync_state = _grouped(
        db, "SELECT sync_state, COUNT(*) FROM orders GROUP BY sync_state"
    )
    snap.open_sessions = int(
        db.execute("SELECT COUNT(*) FROM pos_sessions WHERE state = 'open'").fetchone()[0]
    )
    snap.events_head = events.head(db)
    snap.events_oldest = events.oldest(db)
    snap.cursors = events.cursors(db)
    # Each guarded table is absent only from a database whose migration is pending.
    if _columns(db, "kitchen_jobs") is not None:
        snap.kitchen_jobs = _grouped(db, "SELECT state, COUNT(*) FROM kitchen_jobs GROUP BY state")
        snap.devices_total = int(db.execute("SELECT COUNT(*) FROM devices").fetchone()[0])
        snap.devices_online = int(
            db.execute("SELECT COUNT(*) FROM devices WHERE online = 1").fetchone()[0]
        )
    if _columns(db, "audit") is not None:
        snap.audit_rows, snap.audit_head = chain.head(db)
    if _columns(db, "job_runs") is not None:
        snap.jobs = read_status(db)
    return snap


def transitions_since(db: sqlite_utils.Database, after_id: int) -> tuple[int, dict[str, int]]:
    """Transitions recorded after history row ``after_id``: (last id, count per event).

    ``order_history`` only grows, so a running total kept from these deltas is a
    true counter across every process that moves orders, at the cost of reading
    only the rows that are new since the last scrape.
    """
    rows = db.execute(
        "SELECT MAX(id), event, COUNT(*) FROM order_history WHERE id > ? GROUP BY event",
        (after_id,),
    ).fetchall()
    last = max((r[0] for r in rows), default=after_id)
    return last, {r[1]: int(r[2]) for r in rows}
