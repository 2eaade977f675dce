"""The kitchen job store: one row per ticket per station, kept until a device acknowledges it.

Every function runs in the caller's transaction. A job moves through

    pending --PUBACK--> sent --device ack--> acked
       \\                  \\--device failed--> failed --device ack--> acked
        \\--order cancelled or finished before a device confirmed--> void

``pending`` means the broker has not confirmed the last send, ``sent`` that it
has (which says nothing about a device: Mosquitto acknowledges a message that
no one receives, and drops messages to slow subscribers). Until a device acks,
``next_attempt_at`` holds when to send again; each send counts one attempt and
backs off. A re-send carries ``reprint: true`` once an earlier copy reached the
broker (the job is ``sent`` or ``failed``), since a device may then have printed
it: the banner tells the cook to check before cooking twice. A copy the broker
never confirmed is sent plain, so an outage does not cover a shift's first
prints in REPRINT banners that cooks learn to ignore. Devices drop a ``job_id``
they have already handled, so a re-send prints at most once per device.

The table's states, its listing and its pruning are the core's
(``hub.kitchen_jobs``): the hub lists and prunes the rows this module writes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from firmware_bridge import presence
from firmware_bridge.messages import Ack
from hub.backoff import doubling
from hub.clock import now_iso
from hub.kitchen_jobs import OPEN_STATES
from hub.orders import commands
from hub.orders.commands import OrderRules


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to send an unacknowledged job again: ``first`` seconds, doubling up to ``maximum``."""

    first: float
    maximum: float

    def delay(self, attempts: int) -> float:
        return doubling(self.first, self.maximum, attempts - 1)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One send of one job: what to publish on the station's jobs topic."""

    job_id: str
    station: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class AckOutcome:
    """What an ack did, for the log line and for the caller's follow-up."""

    result: str  # acked | duplicate | late | failed | stale | foreign | unknown
    order_id: int | None = None


def job_id_for(order_uuid: str, station: str, kind: str) -> str:
    """Stable across re-sends and restarts, so devices can recognise what they handled."""
    return f"{order_uuid}:{station}:{kind}"


def create(
    db: sqlite_utils.Database,
    *,
    order: dict[str, Any],
    station: str,
    kind: str,
    lines: list[dict[str, Any]],
    created_at: str,
    policy: RetryPolicy,
) -> Outgoing | None:
    """Insert the job and claim its first send; None when it already exists."""
    job_id = job_id_for(order["uuid"], station, kind)
    payload = {
        "job_id": job_id,
        "kind": kind,
        "station": station,
        "order": {
            "id": order["id"],
            "uuid": order["uuid"],
            "name": order["name"],
            "number": order["number"],
            "note": order.get("note") or "",
            "table": None,
        },
        "lines": lines,
        "created_at": created_at,
    }
    now = now_iso()
    inserted = db.execute(
        "INSERT OR IGNORE INTO kitchen_jobs (job_id, order_id, station, kind, state, payload, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
        (job_id, order["id"], station, kind, json.dumps(payload, separators=(",", ":")), now, now),
    ).rowcount
    if not inserted:
        return None
    target = presence.route(db, station)
    return _claim(db, job_id, station, target, "pending", 0, payload, policy, time.time())


def claim_due(
    db: sqlite_utils.Database, policy: RetryPolicy, now: float, limit: int = 200
) -> list[Outgoing]:
    """Claim the next send of every open job whose time has come, oldest first."""
    rows = db.execute(
        "SELECT job_id, station, state, attempts, payload FROM kitchen_jobs "
        "WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at, id LIMIT ?",
        (now, limit),
    ).fetchall()
    routes: dict[str, presence.Route] = {}  # one lookup per station, not per job
    claimed = []
    for job_id, station, state, attempts, payload in rows:
        if station not in routes:
            routes[station] = presence.route(db, station)
        body = json.loads(payload)
        claimed.append(
            _claim(db, job_id, station, routes[station], state, attempts, body, policy, now)
        )
    return claimed


def _claim(
    db: sqlite_utils.Database,
    job_id: str,
    station: str,
    target: presence.Route,
    state: str,
    attempts: int,
    body: dict[str, Any],
    policy: RetryPolicy,
    now: float,
) -> Outgoing:
    """Count one attempt, address it to ``target``, and set when to try again if no ack comes.

    The attempt is recorded before the publish: if this process dies between the
    two, the job is simply due again later, never forgotten.
    """
    attempts += 1
    retry_at = now + policy.delay(attempts)
    db.execute(
        "UPDATE kitchen_jobs SET attempts = ?, device = ?, backup = ?, next_attempt_at = ?, "
        "updated_at = ? WHERE job_id = ?",
        (attempts, target.device, int(target.backup), retry_at, now_iso(), job_id),
    )
    body = dict(body)
    body.update(
        device=target.device,
        backup=target.backup,
        reprint=state != "pending",
        attempt=attempts,
        sent_at=now_iso(),
    )
    return Outgoing(job_id, station, json.dumps(body, separators=(",", ":")).encode())


def next_due(db: sqlite_utils.Database) -> float | None:
    row = db.execute(
        "SELECT MIN(next_attempt_at) FROM kitchen_jobs WHERE next_attempt_at IS NOT NULL"
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def mark_sent(db: sqlite_utils.Database, job_ids: list[str]) -> set[int]:
    """The broker has these jobs; returns the orders whose kitchen status may change."""
    orders: set[int] = set()
    now = now_iso()
    for job_id in job_ids:
        row = db.execute(
            "UPDATE kitchen_jobs SET state = 'sent', sent_at = ?, updated_at = ? "
            "WHERE job_id = ? AND state = 'pending' RETURNING order_id",
            (now, now, job_id),
        ).fetchone()
        if row is not None:
            orders.add(int(row[0]))
    return orders


def record_ack(
    db: sqlite_utils.Database, device: str, ack: Ack, policy: RetryPolicy, now: float
) -> AckOutcome:
    """Apply a device's ack. A job is acked once; later acks only say it printed elsewhere too.

    Only a device that may have been sent the job can end it (``may_ack``); any
    other is ``foreign`` and changes nothing, or one stray ack would stop the
    retries of a ticket nobody printed.
    """
    row = db.execute(
        "SELECT order_id, station, state, device, attempts FROM kitchen_jobs WHERE job_id = ?",
        (ack.job_id,),
    ).fetchone()
    if row is None:
        return AckOutcome("unknown")
    order_id, station, state, addressed_to, attempts = row
    if not may_ack(db, device, station, addressed_to):
        return AckOutcome("foreign", order_id)
    stamp = now_iso()
    if ack.status != "failed":
        if state == "acked":
            return AckOutcome("duplicate", order_id)
        if state == "void":
            return AckOutcome("late", order_id)
        db.execute(
            "UPDATE kitchen_jobs SET state = 'acked', ack_status = ?, acked_by = ?, acked_at = ?, "
            "next_attempt_at = NULL, last_error = NULL, updated_at = ? WHERE job_id = ?",
            (ack.status, device, stamp, stamp, ack.job_id),
        )
        return AckOutcome("acked", order_id)
    if state not in OPEN_STATES or (addressed_to is not None and addressed_to != device):
        # Done already, or a failure from a device the job has since moved away from.
        return AckOutcome("stale", order_id)
    # Straight away when another device can take it; else back off and wait for
    # this one (its status returning to healthy reschedules the job at once).
    elsewhere = presence.route(db, station).device not in (None, device)
    retry_at = now if elsewhere else now + policy.delay(attempts)
    db.execute(
        "UPDATE kitchen_jobs SET state = 'failed', last_error = ?, next_attempt_at = ?, "
        "updated_at = ? WHERE job_id = ?",
        (ack.error, retry_at, stamp, ack.job_id),
    )
    return AckOutcome("failed", order_id)


def may_ack(db: sqlite_utils.Database, device: str, station: str, addressed_to: str | None) -> bool:
    """Whether ``device`` may answer for a job of ``station`` last addressed to ``addressed_to``.

    The addressed device, or another device registered on the station: a job
    moves between the station's primary and backup on failover, and the one it
    left may have printed it before its ack got through. A job addressed to no
    one (the station has no registered device) may be taken by any device.
    """
    if device == addressed_to:
        return True
    on_station = {
        str(r[0]) for r in db.execute("SELECT id FROM devices WHERE station = ?", (station,))
    }
    return device in on_station or (addressed_to is None and not on_station)


def reschedule_all(db: sqlite_utils.Database, now: float, connected_at: str) -> int:
    """Make due now every open job last touched before the (re)connection at ``connected_at``.

    The broker may have lost those. A job claimed, confirmed or failed since then
    went out on this connection: sending it again now would only race its own
    PUBACK, and a copy claimed while still ``pending`` would go out without its
    reprint banner although the first copy may already be printing.
    """
    return _reschedule(db, now, "next_attempt_at IS NOT NULL AND updated_at < ?", (connected_at,))


def reschedule_device(db: sqlite_utils.Database, now: float, device: str) -> int:
    """Make the open jobs last sent to ``device`` due now: it cannot print, re-route them."""
    return _reschedule(db, now, "next_attempt_at IS NOT NULL AND device = ?", (device,))


def reschedule_stranded(db: sqlite_utils.Database, now: float, station: str, device: str) -> int:
    """Make due now the station's open jobs that failed or wait on a device that cannot print.

    Called when ``device``, one of the station's, becomes able to print again.
    The jobs addressed to ``device`` itself are among them whatever their
    state: sent while it could not print, they would otherwise wait for their
    retry timer (up to ``kitchen_retry_max_seconds``) although it can print now.
    """
    return _reschedule(
        db,
        now,
        "next_attempt_at IS NOT NULL AND station = ? AND (state = 'failed' OR device IS NULL "
        f"OR device = ? OR device NOT IN (SELECT id FROM devices WHERE {presence.HEALTHY}))",
        (station, device),
    )


def _reschedule(db: sqlite_utils.Database, now: float, where: str, params: tuple[str, ...]) -> int:
    return int(
        db.execute(
            f"UPDATE kitchen_jobs SET next_attempt_at = ?, updated_at = ? WHERE {where}",
            (now, now_iso(), *params),
        ).rowcount
    )


def open_new_jobs(db: sqlite_utils.Database, order_id: int) -> list[tuple[str, str, str]]:
    """``(job_id, station, state)`` of the order's tickets, void ones left out."""
    rows = db.execute(
        "SELECT job_id, station, state FROM kitchen_jobs WHERE order_id = ? AND kind = 'new' "
        "AND state != 'void' ORDER BY id",
        (order_id,),
    ).fetchall()
    return [(str(j), str(s), str(st)) for j, s, st in rows]


def void(db: sqlite_utils.Database, job_id: str, reason: str) -> None:
    """Stop wanting a job that no device has acknowledged."""
    db.execute(
        "UPDATE kitchen_jobs SET state = 'void', next_attempt_at = NULL, last_error = ?, "
        "updated_at = ? WHERE job_id = ? AND state IN ('pending', 'sent', 'failed')",
        (reason, now_iso(), job_id),
    )


def payload_lines(db: sqlite_utils.Database, job_id: str) -> list[dict[str, Any]]:
    row = db.execute("SELECT payload FROM kitchen_jobs WHERE job_id = ?", (job_id,)).fetchone()
    lines: list[dict[str, Any]] = json.loads(row[0])["lines"] if row else []
    return lines


def kitchen_status(db: sqlite_utils.Database, order_id: int) -> str | None:
    """What the order's tickets say: queued, sent, printed or failed; None without tickets."""
    states = [
        r[0]
        for r in db.execute(
            "SELECT state FROM kitchen_jobs WHERE order_id = ? AND kind = 'new' "
            "AND state != 'void'",
            (order_id,),
        ).fetchall()
    ]
    if not states:
        return None
    if all(s == "acked" for s in states):
        return "printed"
    if "failed" in states:
        return "failed"
    if all(s in ("sent", "acked") for s in states):
        return "sent"
    return "queued"


def refresh_kitchen_status(
    db: sqlite_utils.Database, rules: OrderRules, order_ids: set[int]
) -> None:
    """Copy the tickets' progress onto orders still waiting for the kitchen to start."""
    for order_id in sorted(order_ids):
        status = kitchen_status(db, order_id)
        if status is not None:
            commands.set_kitchen_status(db, rules, order_id, status)
