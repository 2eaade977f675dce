"""The kitchen job table: one row per ticket per station, kept until a device acknowledges it.

The bridge writes the rows (``firmware_bridge.job_store``); the hub lists them for
``GET /api/v1/kitchen/jobs`` and prunes them (``event_prune``), and device
management counts the open ones. What every process reads of the table lives
here. A job moves through

    pending --PUBACK--> sent --device ack--> acked
       \\                  \\--device failed--> failed --device ack--> acked
        \\--order cancelled or finished before a device confirmed--> void

``pending`` means the broker has not confirmed the last send, ``sent`` that it
has; until a device acks, ``next_attempt_at`` holds when to send again.

Finished jobs (``acked``, ``void``) of orders that have left the kitchen for
good are deleted some days later by the hub's ``event_prune`` job
(``prune_finished``), those of orders never taken out of it a month later;
open jobs are never deleted, whatever their age.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from hub.clock import iso
from hub.db.where import Where

OPEN_STATES = ("pending", "sent", "failed")
STATES = ("pending", "sent", "acked", "failed", "void")

ABANDONED_HOURS = 30 * 24
"""Age after which a finished job goes even though its order never left the kitchen.

A store whose tills never complete orders (printers only, no KDS to bump them)
keeps every order ``paid``; without this, their tickets would never go and each
run would read all of them again to find none it may delete. Past a month,
what keeping them guarded against is gone: a replay of the payment event needs
the kitchen's cursor set back by hand, and by then the event itself has
normally been pruned (``events_keep_hours``, 72 h); and a cancellation that
late would send the station a cancel ticket for a meal cooked, or not, a month
ago, which means nothing to a cook.
"""


# Oldest change first through the partial index kitchen_jobs_finished (migration
# 0005_kitchen_retention), whose WHERE this one must imply. INDEXED BY because the
# planner, without statistics, prefers kitchen_jobs_state, then reads and sorts
# every finished job to find the oldest few: the bound would limit what is deleted,
# not what is read. What the walk reads and skips is the finished jobs younger
# than ABANDONED_HOURS of orders still in the kitchen (a month of tickets at most,
# however long the store has run) and old jobs of orders changed within the window
# (a few). The order's updated_at is read from the row the join fetches anyway by
# its primary key: the range scan and the order of the walk are the index's alone.
def gone_from_kitchen(stamp: str) -> str:
    """The SQL test that a row stamped ``stamp`` (its own last change) of order ``o``
    may go: both changed before ``?1``, and the order finished or both changed
    before ``?2`` (abandoned). Shared by the tickets and the ready marks."""
    return (
        f"{stamp} < ?1 AND o.updated_at < ?1 AND (o.state IN ('done', 'invoiced', "
        f"'cancelled') OR ({stamp} < ?2 AND o.updated_at < ?2))"
    )


PRUNE_FINISHED = (
    "DELETE FROM kitchen_jobs WHERE id IN (SELECT j.id FROM kitchen_jobs j "
    "INDEXED BY kitchen_jobs_finished "
    "JOIN orders o ON o.id = j.order_id WHERE j.state IN ('acked', 'void') "
    f"AND {gone_from_kitchen('j.updated_at')} ORDER BY j.updated_at LIMIT ?3)"
)


def prune_finished(db: sqlite_utils.Database, before: str, abandoned: str, limit: int) -> int:
    """Delete up to ``limit`` finished jobs, their order and they last changed before ``before``,
    oldest first.

    Jobs of orders that are done, invoiced or cancelled, which no event brings
    back to the kitchen (the order machine has no way out of them but
    ``invoice``). A job of an order still paid, preparing or ready is kept
    until ``abandoned`` (``ABANDONED_HOURS`` ago), because the bridge still
    reads it:

    * a cancellation sends a cancel ticket to each station whose ticket it
      finds (``open_new_jobs``): an order forgotten at the pass and cancelled
      days later must still reach the station that printed it;
    * a ticket is made at most once because its row exists (``create``'s
      INSERT OR IGNORE); once the row is gone, only the order's state stops a
      replayed payment event from printing it again (``intake``).

    A month later neither is worth the rows (``ABANDONED_HOURS``).

    ``updated_at`` of a finished job is when it became final: nothing updates
    a job after that. A job is aged by the later of that and its order's
    ``updated_at`` (the same ISO text): an order that sat at the pass for days
    and was handed over just now keeps its tickets for the whole window, for
    support to find. An ack for a pruned job, days late, counts as
    ``unknown`` and changes nothing. Returns how many jobs went.
    """
    return int(db.execute(PRUNE_FINISHED, (before, abandoned, limit)).rowcount)


_LIST_COLUMNS = (
    "j.id, j.job_id, j.order_id, o.uuid, o.name, o.number, j.station, j.kind, j.state, "
    "j.device, j.backup, j.attempts, j.ack_status, j.acked_by, j.last_error, j.next_attempt_at, "
    "j.created_at, j.sent_at, j.acked_at, j.updated_at"
)


def list_jobs(
    db: sqlite_utils.Database,
    *,
    state: str | None = None,
    station: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Jobs newest first, for ``GET /api/v1/kitchen/jobs``; the payload stays in the table."""
    where = Where().add("j.state = ?", state).add("j.station = ?", station)
    where.add("j.id < ?", before)
    cursor = db.execute(
        f"SELECT {_LIST_COLUMNS} FROM kitchen_jobs j JOIN orders o ON o.id = j.order_id "
        f"WHERE {where.sql} ORDER BY j.id DESC LIMIT ?",
        (*where.params, limit),
    )
    names = [c[0] for c in cursor.description]
    items = []
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        item["order_uuid"] = item.pop("uuid")
        item["order_name"] = item.pop("name")
        item["order_number"] = item.pop("number")
        item["backup"] = bool(item["backup"])
        due = item["next_attempt_at"]
        item["next_attempt_at"] = iso(datetime.fromtimestamp(due, UTC)) if due is not None else None
        items.append(item)
    return items
