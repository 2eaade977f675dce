"""Database chores of the periodic jobs, each run inside one writer transaction.

Each does a bounded amount of work per run (pages vacuumed, events deleted),
so it never holds the write lock long enough for a till to notice; what is
left over is done at the next run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from hub import events
from hub.clock import parse_iso
from hub.db.store import Store

VACUUM_PAGES_PER_RUN = 2000  # 8 MB of 4 KB pages: a few ms of writer time
PRUNE_ROWS_PER_RUN = 10_000


def optimize(db: sqlite_utils.Database) -> str:
    """``PRAGMA optimize`` (refreshes the planner's statistics where they drifted),
    then give free pages back to the file system if the database allows it."""
    db.execute("PRAGMA optimize").fetchall()
    free = int(db.execute("PRAGMA freelist_count").fetchone()[0])
    if int(db.execute("PRAGMA auto_vacuum").fetchone()[0]) != 2:
        return f"optimized; {free} free pages kept (auto_vacuum is not incremental)"
    # Python's sqlite3 steps a statement without result columns once, and each
    # step of incremental_vacuum frees one page: hence one call per page.
    pages = min(free, VACUUM_PAGES_PER_RUN)
    for _ in range(pages):
        db.execute("PRAGMA incremental_vacuum(1)")
    return f"optimized; {pages} of {free} free pages released"


@dataclass(frozen=True, slots=True)
class PruneRule:
    """What the log must keep: unread events, and a window for WebSocket resume."""

    keep_hours: float
    keep_count: int
    consumers: tuple[str, ...]


def prune_bound(db: sqlite_utils.Database, rule: PruneRule) -> int:
    """The highest seq that may go: read by every consumer and outside the window.

    A consumer named in the rule but without a cursor yet (say, the sync agent
    of a store not connected to head office) holds the whole log.
    """
    head = events.head(db)
    present = events.cursors(db)
    positions = [present.get(name, 0) for name in rule.consumers] + list(present.values())
    bound = min(positions) if positions else head
    return max(0, min(bound, head - rule.keep_count))


def prune(db: sqlite_utils.Database, rule: PruneRule, now: datetime | None = None) -> str:
    bound = prune_bound(db, rule)
    now = now or datetime.now(UTC)
    cutoff = (now - timedelta(hours=rule.keep_hours)).isoformat(timespec="milliseconds")
    cutoff = cutoff.replace("+00:00", "Z")
    # ts is written by now_iso() in seq order by one writer at a time, so the
    # ISO strings compare in time order; the seq range bounds the scan.
    deleted = db.execute(
        "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= ? AND ts < ? "
        "ORDER BY seq LIMIT ?)",
        (bound, cutoff, PRUNE_ROWS_PER_RUN),
    ).rowcount
    return f"{deleted} events pruned (bound seq {bound})"


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """How far the sync agent is behind the log: the payload of ``sync.status``."""

    state: str  # "idle" (no head office configured) | "ok" | "lagging"
    pending: int
    lag_seconds: float
    cursor: int
    head: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync_status(
    db: sqlite_utils.Database,
    consumer: str,
    *,
    configured: bool,
    alert_seconds: float,
    now: datetime | None = None,
) -> SyncStatus:
    head = events.head(db)
    cursor = events.get_cursor(db, consumer)
    first = db.execute(
        "SELECT ts FROM events WHERE seq > ? ORDER BY seq LIMIT 1", (cursor,)
    ).fetchone()
    now = now or datetime.now(UTC)
    lag = max(0.0, (now - parse_iso(first[0])).total_seconds()) if first else 0.0
    state = "idle" if not configured else "lagging" if lag > alert_seconds else "ok"
    return SyncStatus(state, max(0, head - cursor), round(lag, 3), cursor, head)


class SyncWatch:
    """Emits ``sync.status`` when the sync state changes, and keeps the latest for /health.

    The last emitted state is read back from the log itself, so several workers
    (or a restart) agree on what was said; only events newer than the last one
    seen are scanned. Memory is updated only once the write has committed.
    """

    def __init__(self, consumer: str, *, configured: bool, alert_seconds: float) -> None:
        self.consumer = consumer
        self.configured = configured
        self.alert_seconds = alert_seconds
        self.latest: SyncStatus | None = None
        self._last_said: str | None = None
        self._scanned_to = 0

    async def run(self, store: Store) -> str:
        status, said, scanned_to, emitted = await store.write(
            self._check, self._last_said, self._scanned_to
        )
        self.latest, self._last_said, self._scanned_to = status, said, scanned_to
        head = f"{status.state}, {status.pending} pending, lag {status.lag_seconds}s"
        return head + (f"; sync.status seq {emitted}" if emitted else "")

    def _check(
        self, db: sqlite_utils.Database, last_said: str | None, scanned_to: int
    ) -> tuple[SyncStatus, str | None, int, int | None]:
        status = sync_status(
            db, self.consumer, configured=self.configured, alert_seconds=self.alert_seconds
        )
        said = db.execute(
            "SELECT data FROM events WHERE event = 'sync.status' AND seq > ? "
            "ORDER BY seq DESC LIMIT 1",
            (scanned_to,),
        ).fetchone()
        if said is not None:
            last_said = json.loads(said[0]).get("state")
        if status.state == last_said:
            return status, last_said, status.head, None
        seq = events.append(db, "sync.status", status.as_dict(), ["store"])
        return status, status.state, seq, seq
