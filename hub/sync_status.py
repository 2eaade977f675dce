"""Sync status: what the agent records about itself, and the one reading every surface shows.

The agent runs in its own process; ``GET /api/v1/sync/status``, ``/health``,
``/metrics`` (through the hub's sync watch) and ``edgehub status`` run in
others. They meet in SQLite: the agent keeps one ``sync_agent`` row current
(state, Odoo's url and version, whether it answered, the last success and
error, a heartbeat), and ``read`` combines it with the outbox and the event
log. Lag is measured from the log, not from the agent's word, so an agent
that died still shows up as lagging. ``health`` takes the same numbers
without what only the status API shows (the parked rows, Odoo's messages).
It is the core's, not the agent's, because every process reads it.

This is the one measure of the sync: ``verdict`` is the one rule that turns a
reading into ``idle``, ``ok`` or ``lagging``, with one threshold
(``sync_lag_warn_seconds``). Two measures with two thresholds would let
``/health`` say ``ok`` while the journal says ``lagging``.

Agent states: ``starting``, ``running`` (Odoo answers), ``offline`` (Odoo
unreachable, retrying), ``auth_failed`` (Odoo refuses the credentials,
retrying slowly), ``idle`` (no Odoo configured), ``stopped``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from hub import events, sync_outbox
from hub.clock import parse_iso
from hub.settings import Settings

_AGENT_COLUMNS = (
    "state",
    "pid",
    "started_at",
    "heartbeat_at",
    "remote_url",
    "remote_version",
    "reachable",
    "last_success_at",
    "last_error",
    "last_error_at",
    "last_pull_at",
    "summary",
)


def record_agent(db: sqlite_utils.Database, **fields: Any) -> None:
    """Update the agent's row (created on first use) with ``fields``."""
    unknown = set(fields) - set(_AGENT_COLUMNS)
    if unknown:
        raise ValueError(f"not sync_agent columns: {sorted(unknown)}")
    db.execute("INSERT INTO sync_agent (id) VALUES (1) ON CONFLICT (id) DO NOTHING")
    if fields:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        db.execute(f"UPDATE sync_agent SET {assignments} WHERE id = 1", tuple(fields.values()))


def agent_row(db: sqlite_utils.Database) -> dict[str, Any]:
    row = db.execute(f"SELECT {', '.join(_AGENT_COLUMNS)} FROM sync_agent WHERE id = 1").fetchone()
    if row is None:
        return dict.fromkeys(_AGENT_COLUMNS) | {"state": "stopped"}
    return dict(zip(_AGENT_COLUMNS, row, strict=True))


def read(
    db: sqlite_utils.Database, settings: Settings, now: datetime | None = None
) -> dict[str, Any]:
    """The status API.md promises, plus the parked rows and the agent's own state."""
    agent = agent_row(db)
    numbers = _numbers(db, agent, settings, now or datetime.now(UTC))
    reachable = agent["reachable"]
    return {
        "state": numbers["state"],
        "pending": numbers["pending"],
        "failed": numbers["failed"],
        "last_success_at": numbers["last_success_at"],
        "last_error": agent["last_error"],
        "last_error_at": agent["last_error_at"],
        "lag_seconds": numbers["lag_seconds"],
        "oldest_pending_age": numbers["oldest_pending_age"],
        "unread_events": numbers["unread_events"],
        "last_pull_at": agent["last_pull_at"],
        "remote": {
            "url": agent["remote_url"] or settings.odoo.url,
            "version": agent["remote_version"],
            "reachable": None if reachable is None else bool(reachable),
        },
        "agent": {
            "pid": agent["pid"],
            "started_at": agent["started_at"],
            "heartbeat_at": agent["heartbeat_at"],
        },
        "parked": sync_outbox.parked(db),
    }


def _numbers(
    db: sqlite_utils.Database, agent: dict[str, Any], settings: Settings, now: datetime
) -> dict[str, Any]:
    """The states and numbers a verdict is drawn from: ``Health``'s fields but its status.

    Two counts and single-row lookups, never the parked rows: ``health`` runs
    on every ``/health`` request and every sync watch run.
    """
    counts = sync_outbox.counts(db)
    cursor = events.get_cursor(db, sync_outbox.CONSUMER)
    unread = events.ts_after(db, cursor)
    oldest = db.execute(
        "SELECT event_ts, enqueued_at FROM sync_outbox WHERE state = 'pending' ORDER BY id LIMIT 1"
    ).fetchone()
    waiting_since = [t for t in (unread, oldest[0] if oldest else None) if t]
    lag = max((_age(now, t) for t in waiting_since), default=0.0)
    return {
        "state": agent["state"] if settings.odoo.url else "idle",
        "lag_seconds": round(lag, 3),
        "pending": counts["pending"],
        "failed": counts["failed"],
        "unread_events": events.head(db) - cursor,
        "oldest_pending_age": round(_age(now, oldest[1]), 3) if oldest else None,
        "last_success_at": agent["last_success_at"],
    }


def verdict(current: dict[str, Any], settings: Settings) -> str:
    """``idle`` without Odoo; ``lagging`` when a person should look; ``ok`` otherwise.

    Lagging: something has waited longer than ``sync_lag_warn_seconds``, an
    order is parked (it will not go by itself), or Odoo refuses the key (no
    order will go at all, however young the backlog still is).
    """
    if not settings.odoo.url:
        return "idle"
    if (
        current["lag_seconds"] > settings.sync.lag_warn_seconds
        or current["failed"]
        or current["state"] == "auth_failed"
    ):
        return "lagging"
    return "ok"


@dataclass(frozen=True, slots=True)
class Health:
    """A verdict with the numbers it was drawn from, as ``/health`` and the sync watch show it.

    Only states and numbers: ``/health`` answers without a token, so Odoo's
    messages, its url and the parked orders stay behind the status API.
    """

    status: str  # the verdict: "idle" | "ok" | "lagging"
    state: str  # the agent's state (see the module docstring)
    lag_seconds: float
    pending: int  # outbox rows waiting to go
    failed: int  # outbox rows parked
    unread_events: int  # events the agent has not tailed yet
    oldest_pending_age: float | None
    last_success_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def health(db: sqlite_utils.Database, settings: Settings, now: datetime | None = None) -> Health:
    """One reading and its verdict, so the verdict and its numbers can never disagree.

    The numbers of ``read`` without what only the status API shows (Odoo's
    messages and url, the parked rows, up to 100 joined rows it would throw away).
    """
    numbers = _numbers(db, agent_row(db), settings, now or datetime.now(UTC))
    return Health(status=verdict(numbers, settings), **numbers)


def summary(current: dict[str, Any]) -> dict[str, Any]:
    """The part of the status a ``sync.status`` event carries."""
    keys = ("state", "pending", "failed", "last_success_at", "last_error", "lag_seconds")
    return {k: current[k] for k in keys} | {"reachable": current["remote"]["reachable"]}


def _age(now: datetime, stamp: str) -> float:
    return max(0.0, (now - parse_iso(stamp)).total_seconds())
