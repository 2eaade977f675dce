"""What fuzzing and a whole-store kill -9 run found on the kitchen side (issue 14): nested acks,
acks from devices a job was not sent to, a ready board that could not tell orders apart, and
tickets that waited on a printer left waiting after it came back."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from firmware_bridge import inbox, intake, job_store, presence
from firmware_bridge.inbox import Inbound
from firmware_bridge.job_store import RetryPolicy
from firmware_bridge.messages import Ack, DeviceStatus
from hub.mqtt_topics import Topics
from hub.orders import commands
from hub.orders.board import ready_numbers
from hub.orders.commands import LineInput
from hub.orders.models import Order
from hub.sessions import open_session
from tests.support.kitchen import GRILL, Kitchen, SimPrinter, wait_until
from tests.support.mqtt_client import Mqtt

POLICY = RetryPolicy(first=5.0, maximum=60.0)
OK = DeviceStatus(online=True, paper="ok", cover="closed", error=None, firmware="t")
GONE = DeviceStatus(online=False, paper=None, cover=None, error=None, firmware=None)
NESTED = b'{"job_id": ' + b"[" * 8000 + b"]" * 8000 + b', "status": "printed"}'
"""Under the 16 KiB payload limit, far past what the JSON parser recurses into."""


def _ack(kitchen: Kitchen, device: str, job_id: str, status: str = "printed") -> str:
    outcome = kitchen.write(
        job_store.record_ack, device, Ack(job_id, status, None), POLICY, time.time()
    )  # type: ignore[arg-type]
    return str(outcome.result)


# --- finding 3: nested JSON from a device ---------------------------------------------------


def test_a_nested_ack_is_rejected_without_traceback_also_when_retained(
    kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]
) -> None:
    """A rogue's retained junk is a warning at each start of the bridge, never a traceback."""
    kitchen.add_device("grill-1", "grill")
    rogue = mqtt_client()
    topic = f"edgehub/{kitchen.store}/devices/grill-1/ack"
    rogue.publish(topic, NESTED, retain=True)
    try:
        bridge = kitchen.bridge()
        wait_until(lambda: "nested too deeply" in bridge.log_text(), what="the nested ack refused")
        bridge.stop()
        restarted = kitchen.bridge()
        wait_until(
            lambda: restarted.log_text().count("nested too deeply") >= 2,
            what="the retained one refused again after the restart",
        )
        log = restarted.log_text()
        assert "Traceback" not in log and "RecursionError" not in log
        assert log.count("mqtt_message_rejected") == 2
        order = kitchen.paid_order((GRILL, "1"))  # and the kitchen still works
        kitchen.wait_jobs(order.id, "sent", 1)
    finally:
        rogue.publish(topic, b"", retain=True)  # clear the retained message


def test_a_nested_job_is_rejected_by_the_printer_adapter_without_traceback(
    kitchen: Kitchen, printers: Callable[..., SimPrinter], mqtt_client: Callable[..., Mqtt]
) -> None:
    """The adapter reads the jobs topic, which anyone with a login may write to."""
    grill = printers()
    kitchen.add_device("grill-1", "grill")
    adapter = kitchen.printer("grill-1", grill.port)
    rogue = mqtt_client()

    def refused() -> bool:
        # READY=1 comes before the adapter's subscription: publish until it hears one.
        if "nested too deeply" in adapter.log_text():
            return True
        rogue.publish(f"edgehub/{kitchen.store}/kitchen/grill/jobs", NESTED)
        time.sleep(0.2)
        return False

    wait_until(refused, what="the nested job refused")
    assert "Traceback" not in adapter.log_text() and adapter.alive()


# --- finding 4: only a device the job may have reached can end it ---------------------------


def test_an_ack_from_a_device_the_job_was_not_sent_to_does_not_end_it(kitchen: Kitchen) -> None:
    """A stray or rogue ack must not stop the retries of a ticket nobody printed."""
    kitchen.add_device("fuzzgrill1", "grill")
    kitchen.add_device("bar-1", "bar")
    kitchen.write(presence.record_status, "fuzzgrill1", OK)
    order = kitchen.paid_order((GRILL, "1"))
    (out,) = kitchen.write(intake.take, POLICY).outgoing
    kitchen.write(job_store.mark_sent, [out.job_id])

    assert _ack(kitchen, "ghost-dev", out.job_id) == "foreign"  # registered nowhere
    assert _ack(kitchen, "bar-1", out.job_id) == "foreign"  # another station's printer
    assert _ack(kitchen, "ghost-dev", out.job_id, "failed") == "foreign"
    (job,) = kitchen.jobs(order.id)
    assert (job["state"], job["acked_by"], job["last_error"]) == ("sent", None, None)
    assert kitchen.write(job_store.next_due) is not None  # still retried

    assert _ack(kitchen, "fuzzgrill1", out.job_id) == "acked"
    assert kitchen.jobs(order.id)[0]["acked_by"] == "fuzzgrill1"


def test_the_stations_backup_may_ack_after_failover(kitchen: Kitchen) -> None:
    """A job moves between a station's devices; the one it reached may confirm it."""
    kitchen.add_device("g1", "grill")
    kitchen.add_device("g2", "grill", role="backup")
    kitchen.write(presence.record_status, "g2", OK)  # the primary never came up
    order = kitchen.paid_order((GRILL, "1"))
    (out,) = kitchen.write(intake.take, POLICY).outgoing
    assert json.loads(out.payload)["device"] == "g2"
    assert _ack(kitchen, "g2", out.job_id) == "acked"
    assert kitchen.jobs(order.id)[0]["acked_by"] == "g2"


def test_a_job_for_a_station_without_devices_may_be_acked_by_any_device(kitchen: Kitchen) -> None:
    """Addressed to no one in particular (docs/kitchen.md), any device of the station takes it."""
    order = kitchen.paid_order((GRILL, "1"))
    (out,) = kitchen.write(intake.take, POLICY).outgoing
    assert json.loads(out.payload)["device"] is None
    assert _ack(kitchen, "some-kds", out.job_id, "shown") == "acked"
    assert kitchen.jobs(order.id)[0]["state"] == "acked"


def test_a_foreign_ack_over_mqtt_is_logged_and_ignored(
    kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]
) -> None:
    """The bridge says what it ignored, and the addressed device's ack still ends the job."""
    kitchen.add_device("fuzzgrill1", "grill")
    device = mqtt_client().subscribe(f"edgehub/{kitchen.store}/kitchen/grill/jobs")
    status = f"edgehub/{kitchen.store}/devices/fuzzgrill1/status"
    device.publish(status, {"online": True}, True)
    try:
        bridge = kitchen.bridge()
        order = kitchen.paid_order((GRILL, "1"))
        _, job = device.next("/jobs")
        ack = {"job_id": job["job_id"], "status": "printed", "error": None}
        device.publish(f"edgehub/{kitchen.store}/devices/ghost-dev/ack", ack)
        wait_until(lambda: "result=foreign" in bridge.log_text(), what="the foreign ack logged")
        assert kitchen.jobs(order.id)[0]["state"] == "sent"
        device.publish(f"edgehub/{kitchen.store}/devices/fuzzgrill1/ack", ack)
        kitchen.wait_jobs(order.id, "acked", 1)
    finally:
        device.publish(status, b"", True)


# --- finding 5: the ready board tells orders apart ------------------------------------------


def _ready_in_new_session(kitchen: Kitchen, terminal: str) -> Order:
    """An order taken on a till of its own (its own session), paid and cooked to ready."""

    def place(db: Any) -> Order:
        actor = kitchen.admin(db)
        session = open_session(db, kitchen.money, actor, terminal=terminal, opening_cash=0)
        order, _ = commands.create_order(
            db,
            kitchen.rules,
            actor,
            uuid=str(uuid.uuid4()),
            session_id=session.id,
            lines=[LineInput(product_id=GRILL, qty=Decimal(1))],
            note="",
            fingerprint=uuid.uuid4().hex,
        )
        order = commands.transition(db, kitchen.rules, actor, order.id, "validate")
        pay = [commands.PaymentInput(method_id=2, amount=kitchen.money.parse(order.amount_total))]
        commands.transition(db, kitchen.rules, actor, order.id, "pay", payments=pay)
        for event in ("start", "ready"):
            order = commands.transition(db, kitchen.rules, actor, order.id, event)
        return order

    result: Order = kitchen.write(place)
    return result


def test_the_ready_board_tells_apart_the_orders_of_four_tills(kitchen: Kitchen) -> None:
    """Four tills' first orders are four different numbers, the ones on the customers' receipts."""
    orders = [_ready_in_new_session(kitchen, f"till-{i}") for i in range(4)]
    board = kitchen.write(ready_numbers)
    assert board == [o.number for o in orders]
    assert len(set(board)) == 4
    assert len({o.name for o in orders}) == 4  # the session's own count stays in the name


def test_order_numbers_count_through_the_day_and_restart_the_next(kitchen: Kitchen) -> None:
    """The number restarts each morning, so it stays short enough to call out."""
    first = _ready_in_new_session(kitchen, "till-1")
    second = _ready_in_new_session(kitchen, "till-2")
    assert second.number == first.number + 1
    kitchen.write(
        lambda db: db.execute("UPDATE orders SET created_at = '2020-01-01T00:00:00.000Z'")
    )
    assert _ready_in_new_session(kitchen, "till-3").number == 1


# --- finding 6: a device that comes back gets what waited on it at once ---------------------


def test_jobs_addressed_to_a_returning_device_are_due_at_once(kitchen: Kitchen) -> None:
    """Sent to the only printer while it was down, they go out when it is back, not later."""
    kitchen.add_device("grill-1", "grill")
    topics = Topics(kitchen.store)

    def status(body: DeviceStatus) -> None:
        kitchen.write(
            inbox.apply, kitchen.rules, POLICY, topics, [Inbound("grill-1", body)], time.time()
        )

    status(OK)
    status(GONE)
    kitchen.paid_order((GRILL, "1"))
    kitchen.paid_order((GRILL, "2"))
    sent = kitchen.write(intake.take, POLICY).outgoing
    assert [json.loads(o.payload)["device"] for o in sent] == ["grill-1", "grill-1"]
    kitchen.write(job_store.mark_sent, [o.job_id for o in sent])
    assert kitchen.write(job_store.next_due) > time.time() + 1  # waiting on the retry timer

    status(OK)
    assert kitchen.write(job_store.next_due) <= time.time()
    again = kitchen.write(job_store.claim_due, POLICY, time.time())
    assert sorted(o.job_id for o in again) == sorted(o.job_id for o in sent)


def test_tickets_paid_while_the_adapter_was_down_print_as_soon_as_it_returns(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """The whole-store run's finding: not on the retry timer (here a minute), at once."""
    grill = printers()
    kitchen.add_device("grill-1", "grill")
    kitchen.env.update(
        EDGEHUB_KITCHEN_ACK_TIMEOUT_SECONDS="30", EDGEHUB_KITCHEN_RETRY_MAX_SECONDS="60"
    )
    kitchen.bridge()
    adapter = kitchen.printer("grill-1", grill.port)
    wait_until(lambda: kitchen.device_row("grill-1")["online"], what="printer online")
    adapter.stop()  # a clean goodbye: online false at once
    wait_until(lambda: not kitchen.device_row("grill-1")["online"], what="printer offline")
    order = kitchen.paid_order((GRILL, "1"))
    kitchen.wait_jobs(order.id, "sent", 1)

    back = time.monotonic()
    kitchen.printer("grill-1", grill.port)
    kitchen.wait_jobs(order.id, "acked", 1, timeout=20)
    assert time.monotonic() - back < 10, "the ticket waited for its retry timer"
    assert [p.key for p in grill.printed()] == [(order.name, "grill", "new")]
