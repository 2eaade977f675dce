"""Pruning finished kitchen jobs: what goes, what stays however old, and orders that outlive it."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from firmware_bridge import intake, job_store
from firmware_bridge.job_store import RetryPolicy
from firmware_bridge.messages import Ack
from hub import kitchen_jobs
from hub.clock import iso
from hub.db.store import Store
from hub.health import Probes
from hub.orders import bumps
from hub.orders.bumps import Bump
from hub.orders.models import Order
from hub.periodic import maintenance
from hub.periodic.hooks import Hooks
from hub.periodic.plan import standard_jobs
from tests.support.kitchen import BAR, COLD, GRILL, Kitchen

POLICY = RetryPolicy(first=5.0, maximum=60.0)
KEEP_HOURS = 72
ABANDONED_HOURS = kitchen_jobs.ABANDONED_HOURS


def _age(kitchen: Kitchen, order_id: int, hours: float) -> None:
    """Make the order, its tickets and its ready marks look last changed ``hours`` ago."""
    stamp = iso(datetime.now(UTC) - timedelta(hours=hours))

    def age(db: Any) -> None:
        db.execute("UPDATE orders SET updated_at = ? WHERE id = ?", (stamp, order_id))
        db.execute("UPDATE kitchen_jobs SET updated_at = ? WHERE order_id = ?", (stamp, order_id))
        db.execute("UPDATE kitchen_ready SET at = ? WHERE order_id = ?", (stamp, order_id))

    kitchen.write(age)


def _ack(kitchen: Kitchen, job_id: str, status: str = "printed") -> str:
    ack = Ack(job_id, status, "paper out" if status == "failed" else None)  # type: ignore[arg-type]
    outcome: job_store.AckOutcome = kitchen.write(
        job_store.record_ack, "g1", ack, POLICY, time.time()
    )
    return outcome.result


def _ticketed(kitchen: Kitchen, *lines: tuple[int, str], printed: bool = True) -> Order:
    """An order paid at a till, its tickets made by the bridge and, unless told, printed."""
    order = kitchen.paid_order(*lines)
    kitchen.write(intake.take, POLICY)
    if printed:
        for job in kitchen.jobs(order.id):
            assert _ack(kitchen, job["job_id"]) == "acked"
    return order


def _served(kitchen: Kitchen, *lines: tuple[int, str], printed: bool = True) -> Order:
    """An order cooked and handed over (``done``), the bridge having read all of it."""
    order = _ticketed(kitchen, *lines, printed=printed)
    for event in ("start", "ready", "complete"):
        kitchen.fire(order.id, event)
    kitchen.write(intake.take, POLICY)
    return order


def _prune(kitchen: Kitchen, keep_hours: float = KEEP_HOURS, **kwargs: Any) -> str:
    note: str = kitchen.write(maintenance.prune_kitchen_jobs, keep_hours, **kwargs)
    return note


def test_old_finished_jobs_of_finished_orders_go(kitchen: Kitchen) -> None:
    """Printed, voided and cancel tickets of orders long gone must not fill the store PC's disk."""
    served = _served(kitchen, (GRILL, "1"), (BAR, "1"))
    unconfirmed = _served(kitchen, (GRILL, "1"), printed=False)
    invoiced = _served(kitchen, (COLD, "1"))
    kitchen.fire(invoiced.id, "invoice")
    kitchen.write(intake.take, POLICY)
    cancelled = _ticketed(kitchen, (GRILL, "1"))
    kitchen.fire(cancelled.id, "cancel")
    (cancel,) = kitchen.write(intake.take, POLICY).outgoing
    assert _ack(kitchen, cancel.job_id) == "acked"
    assert [j["state"] for j in kitchen.jobs(unconfirmed.id)] == ["void"]
    for order in (served, unconfirmed, invoiced, cancelled):
        _age(kitchen, order.id, KEEP_HOURS + 1)

    assert _prune(kitchen) == "6 kitchen jobs pruned"
    assert kitchen.jobs() == []
    assert _prune(kitchen) == "0 kitchen jobs pruned"


def test_open_jobs_stay_however_old(kitchen: Kitchen) -> None:
    """A ticket still owed to a device (queued, at the broker, or failed) is never dropped."""
    order = _ticketed(kitchen, (GRILL, "1"), (BAR, "1"), (COLD, "1"))
    kitchen.fire(order.id, "cancel")
    cancels = {o.station: o.job_id for o in kitchen.write(intake.take, POLICY).outgoing}
    kitchen.write(job_store.mark_sent, [cancels["bar"]])
    assert _ack(kitchen, cancels["cold"], "failed") == "failed"
    _age(kitchen, order.id, 1000)

    assert _prune(kitchen) == "3 kitchen jobs pruned"  # the three printed tickets
    left = {(j["station"], j["kind"]): j["state"] for j in kitchen.jobs(order.id)}
    assert left == {
        ("grill", "cancel"): "pending",
        ("bar", "cancel"): "sent",
        ("cold", "cancel"): "failed",
    }


def test_ready_marks_go_with_their_order_and_stay_while_it_cooks(kitchen: Kitchen) -> None:
    """Which stations bumped an order ready matters only while it is in the kitchen."""
    served = _ticketed(kitchen, (GRILL, "1"), (BAR, "1"))
    cooking = _ticketed(kitchen, (GRILL, "1"), (BAR, "1"))
    for order in (served, cooking):
        bump = Bump(order.uuid, "ready")
        kitchen.write(bumps.apply_bump, kitchen.rules, "grill", bump)
    kitchen.write(bumps.apply_bump, kitchen.rules, "bar", Bump(served.uuid, "ready"))
    kitchen.fire(served.id, "complete")
    for order in (served, cooking):
        _age(kitchen, order.id, KEEP_HOURS + 1)

    assert _prune(kitchen).endswith(", 2 ready marks")
    marks = kitchen.query("SELECT order_id, station FROM kitchen_ready")
    assert marks == [(cooking.id, "grill")]


def test_finished_jobs_of_an_order_left_in_the_kitchen_go_after_a_month(kitchen: Kitchen) -> None:
    """A store whose tills never complete orders must not keep, and re-read, every ticket."""
    gone = _ticketed(kitchen, (GRILL, "1"), (BAR, "1"))
    kept = _ticketed(kitchen, (GRILL, "1"))
    _age(kitchen, gone.id, ABANDONED_HOURS + 24)
    _age(kitchen, kept.id, ABANDONED_HOURS - 24)
    assert kitchen.order_state(gone.id)[0] == kitchen.order_state(kept.id)[0] == "paid"

    assert _prune(kitchen) == "2 kitchen jobs pruned"
    assert kitchen.jobs(gone.id) == []
    assert [j["state"] for j in kitchen.jobs(kept.id)] == ["acked"]


def test_open_jobs_of_an_order_left_in_the_kitchen_stay_after_a_month(kitchen: Kitchen) -> None:
    """A ticket no device confirmed is still owed to the kitchen, however old."""
    order = _ticketed(kitchen, (GRILL, "1"), printed=False)
    _age(kitchen, order.id, 2 * ABANDONED_HOURS)
    assert _prune(kitchen) == "0 kitchen jobs pruned"
    assert [j["state"] for j in kitchen.jobs(order.id)] == ["pending"]


def test_ready_marks_of_an_order_left_at_the_pass_go_after_a_month(kitchen: Kitchen) -> None:
    """An order bumped ready and never handed over does not keep its marks for ever."""
    old = _ticketed(kitchen, (GRILL, "1"), (BAR, "1"))
    recent = _ticketed(kitchen, (GRILL, "1"), (BAR, "1"))
    for order in (old, recent):
        for station in ("grill", "bar"):
            kitchen.write(bumps.apply_bump, kitchen.rules, station, Bump(order.uuid, "ready"))
        assert kitchen.order_state(order.id)[0] == "ready"
    _age(kitchen, old.id, ABANDONED_HOURS + 24)
    _age(kitchen, recent.id, ABANDONED_HOURS - 24)

    assert _prune(kitchen).endswith(", 2 ready marks")
    marks = kitchen.query("SELECT order_id, station FROM kitchen_ready ORDER BY station")
    assert marks == [(recent.id, "bar"), (recent.id, "grill")]


def test_an_order_handed_over_after_days_at_the_pass_keeps_its_tickets_for_the_window(
    kitchen: Kitchen,
) -> None:
    """The keep window runs from when the order left the kitchen, not from when it printed."""
    order = _ticketed(kitchen, (GRILL, "1"), (BAR, "1"))
    for station in ("grill", "bar"):
        kitchen.write(bumps.apply_bump, kitchen.rules, station, Bump(order.uuid, "ready"))
    _age(kitchen, order.id, 4 * 24)  # printed and at the pass four days ago
    kitchen.fire(order.id, "complete")
    kitchen.write(intake.take, POLICY)

    assert _prune(kitchen) == "0 kitchen jobs pruned"
    assert len(kitchen.jobs(order.id)) == 2
    _age(kitchen, order.id, KEEP_HOURS + 1)
    assert _prune(kitchen) == "2 kitchen jobs pruned, 2 ready marks"


def test_finished_jobs_stay_for_the_keep_window(kitchen: Kitchen) -> None:
    """Support still finds yesterday's tickets in /api/v1/kitchen/job_store."""
    order = _served(kitchen, (GRILL, "1"))
    _age(kitchen, order.id, KEEP_HOURS - 1)
    assert _prune(kitchen) == "0 kitchen jobs pruned"
    assert len(kitchen.jobs(order.id)) == 1
    assert _prune(kitchen, keep_hours=KEEP_HOURS - 2) == "1 kitchen jobs pruned"


def test_an_order_cancelled_days_after_its_ticket_printed_still_cancels_it(
    kitchen: Kitchen,
) -> None:
    """An order forgotten at the pass keeps its tickets, so its cancellation reaches the cook."""
    order = _ticketed(kitchen, (GRILL, "2"), (BAR, "1"))
    kitchen.fire(order.id, "start")
    kitchen.write(intake.take, POLICY)
    _age(kitchen, order.id, ABANDONED_HOURS - 24)  # days, not yet a month
    assert _prune(kitchen) == "0 kitchen jobs pruned"

    kitchen.fire(order.id, "cancel")
    outgoing = kitchen.write(intake.take, POLICY).outgoing
    cancels = {o.station: json.loads(o.payload) for o in outgoing}
    assert set(cancels) == {"grill", "bar"}
    grill = cancels["grill"]
    assert (grill["kind"], grill["lines"][0]["name"], grill["lines"][0]["qty"]) == (
        "cancel",
        "Classic Burger",
        "2",
    )


def test_a_replayed_payment_prints_nothing_after_a_prune(kitchen: Kitchen) -> None:
    """A ticket exists once because its row does: a pruned one must belong to a finished order."""
    served = _served(kitchen, (GRILL, "1"))
    cooking = _ticketed(kitchen, (BAR, "1"))
    kitchen.fire(cooking.id, "start")
    for order in (served, cooking):
        _age(kitchen, order.id, KEEP_HOURS + 1)
    assert _prune(kitchen) == "1 kitchen jobs pruned"

    kitchen.write(lambda db: db.execute("UPDATE cursors SET seq = 0 WHERE consumer = 'kitchen'"))
    assert kitchen.write(intake.take, POLICY).outgoing == []
    assert kitchen.jobs(served.id) == []
    assert [j["state"] for j in kitchen.jobs(cooking.id)] == ["acked"]


def test_each_run_deletes_at_most_its_bound_oldest_first(kitchen: Kitchen) -> None:
    """A long backlog goes over several runs, so no run holds the write lock for long."""
    orders = [_served(kitchen, (GRILL, "1")) for _ in range(5)]
    for age, order in enumerate(orders):
        _age(kitchen, order.id, 100 + age)  # the last order is the oldest

    assert _prune(kitchen, limit=3) == "3 kitchen jobs pruned"
    assert [bool(kitchen.jobs(o.id)) for o in orders] == [True, True, False, False, False]
    assert _prune(kitchen, limit=3) == "2 kitchen jobs pruned"
    assert kitchen.jobs() == []


def test_the_prune_walks_the_finished_jobs_oldest_first_without_sorting(kitchen: Kitchen) -> None:
    """A run reads the finished jobs in age order and stops at its bound, never the table sorted."""
    stamp = "2000-01-01T00:00:00.000Z"
    plan = kitchen.query("EXPLAIN QUERY PLAN " + kitchen_jobs.PRUNE_FINISHED, stamp, stamp, 10)
    details = " | ".join(str(row[-1]) for row in plan)
    assert "USING INDEX kitchen_jobs_finished (updated_at<?)" in details, details
    assert "SCAN" not in details and "TEMP B-TREE" not in details, details


def test_the_scheduled_job_notes_events_and_kitchen_jobs(kitchen: Kitchen) -> None:
    """``edgehub status`` and /api/v1/jobs say how much each run of event_prune removed."""
    order = _served(kitchen, (GRILL, "1"), (BAR, "1"))
    _age(kitchen, order.id, 49)
    settings = kitchen.settings.replace(kitchen_jobs_keep_hours=48)
    store = Store(settings)
    store.start()
    try:
        (prune,) = [
            job
            for job in standard_jobs(
                settings, store, Hooks(), Probes(settings), maintenance.SyncWatch(settings)
            )
            if job.name == "event_prune"
        ]
        note = asyncio.run(prune.run())
    finally:
        store.close()
    assert note is not None and note.startswith("0 events pruned (bound seq ")
    assert note.endswith("; 2 kitchen jobs pruned")
    assert kitchen.jobs(order.id) == []
