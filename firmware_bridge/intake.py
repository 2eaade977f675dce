"""From the event log to kitchen jobs: the bridge's durable consumer ``kitchen``.

``take()`` runs in one write transaction: it reads the events after the
consumer's cursor, creates the jobs they call for, and advances the cursor, so
a crash anywhere leaves either all of it or none, and the next run picks up
exactly where the last committed one stopped. Job ids are stable and inserts
idempotent, so reading an event twice cannot make a second ticket.

What the kitchen reads from each ``order.updated`` event is the transition it
records (the last ``state_history`` entry):

* ``pay`` of an order with kitchen lines (``kitchen_status`` ``queued``): one
  ``new`` job per station, lines split by station;
* ``cancel``: a ``cancel`` job for every station whose ticket may have left the
  hub; a ticket created in this very batch never did, and is voided instead;
* ``complete`` / ``invoice``: tickets no device confirmed are voided, not re-sent;
* any step into or out of ``ready``: the ready board must be published again.

An event replayed long after the fact (a first start on an old database, a
bridge that was down for hours) makes no ticket for an order that has left the
kitchen meanwhile: the order's current state is checked in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from firmware_bridge import job_store
from firmware_bridge.job_store import Outgoing, RetryPolicy
from hub import events
from hub.logs import get_logger
from hub.mqtt_topics import is_name

log = get_logger("edgehub.bridge")

CONSUMER = "kitchen"
BATCH = 500
KITCHEN_STATES = ("paid", "preparing", "ready")


@dataclass
class Intake:
    """What one batch of events asks the bridge to do once it has committed."""

    outgoing: list[Outgoing] = field(default_factory=list)
    board_changed: bool = False
    more: bool = False
    seq: int = 0


def take(db: sqlite_utils.Database, policy: RetryPolicy, limit: int = BATCH) -> Intake:
    """Turn the next events into jobs and advance the cursor, in the caller's transaction."""
    batch = events.read_since(db, events.get_cursor(db, CONSUMER), limit)
    intake = Intake(more=len(batch) == limit)
    fresh: dict[str, Outgoing] = {}  # created in this transaction: not published yet
    for event in batch:
        if event.event != "order.updated":
            continue
        order = event.body()
        history = order.get("state_history") or []
        if not history:
            continue
        last = history[-1]
        step = last.get("event")
        if step == "pay" and order.get("kitchen_status") == "queued":
            # The payment itself; later events of a paid order (its tickets' progress,
            # ``sent`` or ``printed``) repeat the same last step and are skipped here.
            _tickets(db, order, last["at"], policy, fresh)
        elif step == "cancel":
            _cancel(db, order, last["at"], policy, fresh)
        elif step in ("complete", "invoice"):
            _finish(db, order, fresh)
        if "ready" in (last.get("from"), last.get("to")):
            intake.board_changed = True
    if batch:
        intake.seq = batch[-1].seq
        events.set_cursor(db, CONSUMER, intake.seq)
    intake.outgoing = list(fresh.values())
    return intake


def _tickets(
    db: sqlite_utils.Database,
    order: dict[str, Any],
    paid_at: str,
    policy: RetryPolicy,
    fresh: dict[str, Outgoing],
) -> None:
    row = db.execute("SELECT state FROM orders WHERE id = ?", (order["id"],)).fetchone()
    if row is None or row[0] not in KITCHEN_STATES:
        return
    by_station: dict[str, list[dict[str, Any]]] = {}
    for line in order.get("lines", []):
        station = line.get("station")
        if station:
            by_station.setdefault(station, []).append(
                {"name": line["name"], "qty": line["qty"], "note": line["note"], "modifiers": []}
            )
    for station, lines in by_station.items():
        if not is_name(station):
            log.error("kitchen_station_unusable", order=order["id"], station=station)
            continue
        out = job_store.create(
            db,
            order=order,
            station=station,
            kind="new",
            lines=lines,
            created_at=paid_at,
            policy=policy,
        )
        if out is not None:
            fresh[out.job_id] = out


def _cancel(
    db: sqlite_utils.Database,
    order: dict[str, Any],
    cancelled_at: str,
    policy: RetryPolicy,
    fresh: dict[str, Outgoing],
) -> None:
    for job_id, station, state in job_store.open_new_jobs(db, order["id"]):
        if fresh.pop(job_id, None) is not None:
            job_store.void(db, job_id, "order cancelled before its ticket was sent")
            continue
        if state != "acked":
            job_store.void(db, job_id, "order cancelled")
        out = job_store.create(
            db,
            order=order,
            station=station,
            kind="cancel",
            lines=job_store.payload_lines(db, job_id),
            created_at=cancelled_at,
            policy=policy,
        )
        if out is not None:
            fresh[out.job_id] = out


def _finish(db: sqlite_utils.Database, order: dict[str, Any], fresh: dict[str, Outgoing]) -> None:
    for job_id, _, state in job_store.open_new_jobs(db, order["id"]):
        if state != "acked":
            fresh.pop(job_id, None)
            job_store.void(db, job_id, "order finished before a device confirmed its ticket")
