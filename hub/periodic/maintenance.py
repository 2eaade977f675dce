"""Database chores of the periodic jobs, each run inside one writer transaction.

Each does a bounded amount of work per run (pages vacuumed, rows deleted),
so it never holds the write lock long enough for a till to notice; what is
left over is done at the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from hub import events, kitchen_jobs, sync_status
from hub.clock import iso
from hub.db.store import Store
from hub.logs import get_logger
from hub.orders import bumps
from hub.settings import Settings

log = get_logger("edgehub.jobs")

VACUUM_PAGES_PER_RUN = 2000  # 8 MB of 4 KB pages: a few ms of writer time
PRUNE_ROWS_PER_RUN = 10_000
# A kitchen job is a wider row than an event, in more indexes: 2,000 is a few ms
# of writer time, and still some fifteen times the hourly tickets of a busy store.
KITCHEN_PRUNE_ROWS_PER_RUN = 2000


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


def quick_check(db: sqlite_utils.Database) -> str:
    """``ok``, or the first problems SQLite's ``quick_check`` found (it reads every page)."""
    lines = [str(row[0]) for row in db.execute("PRAGMA quick_check").fetchall()]
    return "ok" if lines == ["ok"] else "; ".join(lines[:3])


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
    cutoff = _cutoff(now, rule.keep_hours)
    deleted = events.prune(db, bound, cutoff, PRUNE_ROWS_PER_RUN)
    return f"{deleted} events pruned (bound seq {bound})"


def prune_kitchen_jobs(
    db: sqlite_utils.Database,
    keep_hours: float,
    now: datetime | None = None,
    limit: int = KITCHEN_PRUNE_ROWS_PER_RUN,
) -> str:
    """Finished kitchen tickets of finished orders, they and their order last changed more
    than ``keep_hours`` ago, and the same orders' ready marks; those of orders left in the
    kitchen once they are ``hub.kitchen_jobs.ABANDONED_HOURS`` old.

    Which rows may go, and why, is the kitchen's to say
    (``hub.kitchen_jobs.prune_finished``, ``hub.orders.bumps.prune_marks``);
    this is the age and the bound.
    """
    cutoff = _cutoff(now, keep_hours)
    abandoned = _cutoff(now, max(keep_hours, kitchen_jobs.ABANDONED_HOURS))
    deleted = kitchen_jobs.prune_finished(db, cutoff, abandoned, limit)
    marks = bumps.prune_marks(db, cutoff, abandoned, limit)
    return f"{deleted} kitchen jobs pruned" + (f", {marks} ready marks" if marks else "")


def _cutoff(now: datetime | None, hours: float) -> str:
    """``hours`` before ``now`` as the hub writes times (``hub.clock.iso``).

    Those strings compare in time order, so the cutoff is compared as text.
    """
    return iso((now or datetime.now(UTC)) - timedelta(hours=hours))


class SyncWatch:
    """Reads the sync status every few seconds: the journal's line and /metrics' numbers.

    The backstop for a sync agent that is dead or stuck: the lag grows here
    whatever the agent says. It measures with ``hub.sync_status.health``,
    the reading ``/health`` makes per request, so both give one verdict. A
    change of verdict is logged (``sync_lag_state``), so the journal shows it
    even when nobody polls ``/health``; ``sync.status`` events stay the
    agent's own (``cloud_sync.agent``, one payload shape for clients).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.latest: sync_status.Health | None = None

    async def run(self, store: Store) -> str:
        reading = await store.read(sync_status.health, self.settings)
        if self.latest is not None and reading.status != self.latest.status:
            level = logging.WARNING if reading.status == "lagging" else logging.INFO
            log.log(level, "sync_lag_state", state=reading.status, lag_seconds=reading.lag_seconds)
        self.latest = reading
        return (
            f"{reading.status}, {reading.unread_events} events unread, "
            f"{reading.pending} pending, {reading.failed} parked, lag {reading.lag_seconds}s"
        )
