"""What is wrong in the store right now, with since when: one list for /health, status and the log.

Each fault is read from what the processes already record (SQLite for the
kitchen and the sync agent, the cache's own state for Redis), so ``/health``
in ``serve``, ``edgehub status`` in a shell and the ``fault_watch`` job see
the same list. The job keeps the list it last saw in the ``faults`` table and
logs each fault once when it appears and once when it clears, whichever
worker runs it and across restarts: a printer out of paper for an hour is two
log lines, not one a minute.

| key                       | level   | when                                                   |
|---------------------------|---------|--------------------------------------------------------|
| ``redis``                 | WARNING | Redis configured, not answering (served from memory)   |
| ``device:<id>:paper``     | WARNING | a device says its paper is out                         |
| ``device:<id>:cover``     | WARNING | a device says its cover is open                        |
| ``station:<s>:no_device`` | ERROR   | tickets wait for a station no registered device serves |
| ``kitchen:failed``        | ERROR   | tickets a device could not print, none printed since   |
| ``sync:stopped``          | ERROR   | Odoo configured, and the sync agent stopped or silent  |
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from hub.clock import iso, now_iso, parse_iso, span
from hub.logs import get_logger
from hub.settings import Settings

log = get_logger("edgehub.faults")


@dataclass(frozen=True, slots=True)
class Fault:
    key: str
    level: int  # logging.WARNING or logging.ERROR
    what: str  # one sentence for a person: the cause and what to do
    since: str | None  # ISO time it began, when known

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "level": logging.getLevelName(self.level).lower(),
            "what": self.what,
            "since": self.since,
        }


def detect(
    db: sqlite_utils.Database,
    settings: Settings,
    *,
    redis: tuple[str, str | None] | None = None,
    now: datetime | None = None,
) -> list[Fault]:
    """Every fault now, in a stable order. ``redis``: the cache's (state, down since)."""
    now = now or datetime.now(UTC)
    found: list[Fault] = []
    if redis is not None and redis[0] == "down":
        found.append(
            Fault(
                "redis",
                logging.WARNING,
                "Redis does not answer (EDGEHUB_REDIS_URL): the hub serves from its "
                "in-process cache, slower; start redis-server",
                redis[1],
            )
        )
    tables = set(db.table_names())
    if {"devices", "kitchen_jobs"} <= tables:
        found += _kitchen(db)
    if "sync_agent" in tables and settings.odoo.url:
        found += _sync(db, now, settings.timing.sync_silent_seconds)
    return found


def _kitchen(db: sqlite_utils.Database) -> list[Fault]:
    found = []
    rows = db.execute(
        "SELECT id, paper, cover, status_at FROM devices "
        "WHERE paper = 'out' OR cover = 'open' ORDER BY id"
    ).fetchall()
    for device, paper, cover, at in rows:
        if paper == "out":
            what = (
                f"printer {device} is out of paper: load a roll; its tickets wait or go to a backup"
            )
            found.append(Fault(f"device:{device}:paper", logging.WARNING, what, at))
        if cover == "open":
            what = f"printer {device} has its cover open: close it; its tickets wait meanwhile"
            found.append(Fault(f"device:{device}:cover", logging.WARNING, what, at))
    orphans = db.execute(
        "SELECT station, COUNT(*), MIN(created_at) FROM kitchen_jobs "
        "WHERE state IN ('pending', 'sent', 'failed') "
        "AND station NOT IN (SELECT station FROM devices) GROUP BY station ORDER BY station"
    ).fetchall()
    for station, count, since in orphans:
        what = (
            f"{count} ticket(s) for station {station} wait and no device serves it: "
            f"edgehub device add ID --station {station}"
        )
        found.append(Fault(f"station:{station}:no_device", logging.ERROR, what, since))
    failed = db.execute(
        "SELECT COUNT(*), MIN(updated_at), GROUP_CONCAT(DISTINCT station) FROM kitchen_jobs "
        "WHERE state = 'failed'"
    ).fetchone()
    if failed[0]:
        what = (
            f"{failed[0]} ticket(s) failed to print (station {failed[2]}); they are retried: "
            "see GET /api/v1/kitchen/jobs?state=failed for the device's error"
        )
        found.append(Fault("kitchen:failed", logging.ERROR, what, failed[1]))
    return found


def _sync(db: sqlite_utils.Database, now: datetime, silent_seconds: float) -> list[Fault]:
    """The agent beats every 5 s (cloud_sync.agent.HEARTBEAT_SECONDS); silent for
    ``silent_seconds`` it is not running, whatever its row's state says."""
    row = db.execute("SELECT state, heartbeat_at FROM sync_agent WHERE id = 1").fetchone()
    state, beat = row if row else ("stopped", None)
    silent = beat is None or now - parse_iso(beat) > timedelta(seconds=silent_seconds)
    if state != "stopped" and not silent:
        return []
    what = (
        "the sync agent is not running (last heard "
        + (beat or "never")
        + "): orders queue for Odoo; systemctl start edgehub-sync"
    )
    return [Fault("sync:stopped", logging.ERROR, what, beat)]


def with_known_since(db: sqlite_utils.Database, current: list[Fault]) -> list[Fault]:
    """Fill in ``since`` from when the watch first saw a fault whose source has no time
    (Redis: the cache knows it is down, not since when)."""
    if "faults" not in db.table_names() or all(f.since for f in current):
        return current
    noted = dict(db.execute("SELECT key, noted_at FROM faults").fetchall())
    return [f if f.since else Fault(f.key, f.level, f.what, noted.get(f.key)) for f in current]


def note_changes(db: sqlite_utils.Database, current: list[Fault]) -> str:
    """Log the faults that appeared and cleared since the last call (any process); a write.

    Runs in the caller's transaction, so two workers cannot both log one change.
    """
    known = {
        key: (what, since, level)
        for key, what, since, level in db.execute("SELECT key, what, since, level FROM faults")
    }
    now = {fault.key: fault for fault in current}
    for key, fault in now.items():
        if key not in known:
            db.execute(
                "INSERT INTO faults (key, what, since, level, noted_at) VALUES (?, ?, ?, ?, ?)",
                (key, fault.what, fault.since, fault.level, now_iso()),
            )
            log.log(fault.level, "fault_started", fault=key, since=fault.since, what=fault.what)
    for key, (what, since, _) in known.items():
        if key not in now:
            db.execute("DELETE FROM faults WHERE key = ?", (key,))
            log.warning("fault_cleared", fault=key, since=since, what=what)
    return f"{len(now)} fault(s)" if now else "none"


def since_text(since: str | None, now: datetime | None = None) -> str:
    """``since 08:12:01 (3.5m)`` for a person, or ``since unknown``."""
    if not since:
        return "since unknown"
    start = parse_iso(since)
    seconds = ((now or datetime.now(UTC)) - start).total_seconds()
    return f"since {iso(start)[11:19]} UTC ({span(max(0.0, seconds))})"
