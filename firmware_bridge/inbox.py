"""What devices said, applied to SQLite in batches: acks, statuses and bumps.

Messages are parsed on arrival (``parse``); those that pass wait in the
dispatcher's inbox and are applied by ``apply`` in one write transaction per
batch, in arrival order, so a burst of acks costs one commit instead of one
each. Each message runs under a savepoint of its own: a bump the state machine
refuses, or a bug tripped by one odd message, is rolled back alone and the
rest of the batch still commits.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import sqlite_utils

from firmware_bridge import job_store, presence
from firmware_bridge.job_store import RetryPolicy
from firmware_bridge.messages import (
    Ack,
    Bump,
    DeviceStatus,
    parse_ack,
    parse_bump,
    parse_status,
)
from hub.logs import get_logger
from hub.mqtt_topics import Topics
from hub.orders import bumps
from hub.orders.bumps import BumpRefused
from hub.orders.commands import OrderRules

log = get_logger("edgehub.bridge")


@dataclass(frozen=True, slots=True)
class Inbound:
    """One checked message: ``name`` is the device (ack, status) or the station (bump)."""

    name: str
    body: Ack | DeviceStatus | Bump


@dataclass
class Applied:
    """What the batch asks for after its commit."""

    replies: list[tuple[str, bytes]] = field(default_factory=list)
    reschedule: bool = False


def parse(topics: Topics, topic: str, payload: bytes) -> Inbound | None:
    """Check a message the bridge subscribed to; None for a topic it does not handle.

    Raises ``messages.Rejected`` for a payload it will not act on.
    """
    parsed = topics.parse(topic)
    if parsed is None:
        return None
    kind, name = parsed
    if kind == "ack":
        return Inbound(name, parse_ack(payload))
    if kind == "status":
        return Inbound(name, parse_status(payload))
    return Inbound(name, parse_bump(payload))


def apply(
    db: sqlite_utils.Database,
    rules: OrderRules,
    policy: RetryPolicy,
    topics: Topics,
    batch: list[Inbound],
    now: float,
) -> Applied:
    """Apply a batch in the caller's transaction."""
    applied = Applied()
    touched: set[int] = set()
    for message in batch:
        db.execute("SAVEPOINT inbound")
        try:
            _apply_one(db, rules, policy, topics, message, now, applied, touched)
        except BumpRefused as exc:
            db.execute("ROLLBACK TO SAVEPOINT inbound")
            assert isinstance(message.body, Bump)
            _refuse(topics, message.name, message.body, exc, applied)
        except Exception:
            db.execute("ROLLBACK TO SAVEPOINT inbound")
            log.exception("inbound_failed", name=message.name, kind=type(message.body))
        db.execute("RELEASE SAVEPOINT inbound")
    job_store.refresh_kitchen_status(db, rules, touched)
    return applied


def _apply_one(
    db: sqlite_utils.Database,
    rules: OrderRules,
    policy: RetryPolicy,
    topics: Topics,
    message: Inbound,
    now: float,
    applied: Applied,
    touched: set[int],
) -> None:
    body = message.body
    if isinstance(body, Ack):
        outcome = job_store.record_ack(db, message.name, body, policy, now)
        presence.touch(db, message.name)
        # An unknown job is a device's mistake, an ack for a job another device was sent
        # a device's mistake or a rogue's (ignored); a repeat ack is normal after a re-send.
        level = logging.WARNING if outcome.result in ("unknown", "foreign") else logging.INFO
        log.log(
            level,
            "kitchen_ack",
            job=body.job_id,
            device=message.name,
            status=body.status,
            result=outcome.result,
            error=body.error,
        )
        if outcome.order_id is not None and outcome.result in ("acked", "failed"):
            touched.add(outcome.order_id)
        if outcome.result == "failed":
            applied.reschedule = True
    elif isinstance(body, DeviceStatus):
        change = presence.record_status(db, message.name, body)
        if change is None:
            log.warning("status_from_unregistered_device", device=message.name)
            return
        if change.changed:
            log.info(
                "device_status",
                device=message.name,
                online=body.online,
                paper=body.paper,
                cover=body.cover,
                error=body.error,
            )
        if change.health_changed:
            if body.healthy:
                job_store.reschedule_stranded(db, now, change.station, message.name)
            else:
                job_store.reschedule_device(db, now, message.name)
            applied.reschedule = True
    else:
        state = bumps.apply_bump(db, rules, message.name, body)
        log.info(
            "kitchen_bump",
            station=message.name,
            order=body.order_uuid,
            action=body.action,
            state=state or "unchanged",
        )


def _refuse(topics: Topics, station: str, bump: Bump, exc: BumpRefused, applied: Applied) -> None:
    log.warning(
        "kitchen_bump_refused",
        station=station,
        order=bump.order_uuid,
        action=bump.action,
        error=exc.code,
    )
    reply = {
        "order_uuid": bump.order_uuid,
        "action": bump.action,
        "error": exc.code,
        "message": exc.message,
        "detail": exc.detail,
    }
    applied.replies.append((topics.errors(station), json.dumps(reply).encode()))
