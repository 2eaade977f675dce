"""The hub's numbers, read in one SQLite snapshot: for ``/metrics`` and ``edgehub status``.

Tables that other parts of EdgeHub own and may not exist yet in a given
database (``kitchen_jobs``, ``devices``) are read only when present, by the
columns they have, so this module never has to import their code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from hub import events
from hub.audit import chain
from hub.jobs.scheduler import read_status


@dataclass
class Snapshot:
    orders_by_state: dict[str, int] = field(default_factory=dict)
    orders_by_sync_state: dict[str, int] = field(default_factory=dict)
    open_sessions: int = 0
    events_head: int = 0
    events_oldest: int | None = None
    cursors: dict[str, int] = field(default_factory=dict)
    kitchen_jobs: dict[str, int] | None = None  # None: no kitchen_jobs table here
    devices_online: int | None = None
    devices_total: int | None = None
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
    kitchen = _columns(db, "kitchen_jobs")
    if kitchen is not None:
        column = "state" if "state" in kitchen else "status" if "status" in kitchen else None
        snap.kitchen_jobs = (
            _grouped(db, f"SELECT {column}, COUNT(*) FROM kitchen_jobs GROUP BY {column}")
            if column
            else {"all": int(db.execute("SELECT COUNT(*) FROM kitchen_jobs").fetchone()[0])}
        )
    devices = _columns(db, "devices")
    if devices is not None:
        snap.devices_total = int(db.execute("SELECT COUNT(*) FROM devices").fetchone()[0])
        if "online" in devices:
            snap.devices_online = int(
                db.execute("SELECT COUNT(*) FROM devices WHERE online = 1").fetchone()[0]
            )
    # Absent only from a database whose 0003_ops migration is pending (status reads those).
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
