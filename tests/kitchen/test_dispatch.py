"""Paid orders become tickets on their stations' devices, acknowledged once, re-sent until then."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from tests.support.kitchen import BAR, GRILL, Kitchen, SimPrinter, ack_timing, wait_until
from tests.support.mqtt_client import Mqtt

ACK_TIMEOUT = 0.5
"""The bridge's ack timeout (and re-send scan) where a test waits to see that nothing more
is sent or printed: the wait is counted in ack timeouts, as it was at the rig's 1 s."""
SHORT_ACKS = ack_timing(ACK_TIMEOUT)


def grill_and_bar(
    kitchen: Kitchen, printers: Callable[..., SimPrinter], **bridge_env: str
) -> tuple[SimPrinter, SimPrinter]:
    """A printer on each of the grill and the bar, each adapted, and the bridge running."""
    grill, bar = printers(), printers()
    kitchen.add_device("grill-1", "grill")
    kitchen.add_device("bar-1", "bar")
    kitchen.bridge(**bridge_env)
    kitchen.printer("grill-1", grill.port)
    kitchen.printer("bar-1", bar.port)
    return grill, bar


def test_paid_order_prints_one_ticket_per_station(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """A grill and bar order must reach both stations, each with only its own lines, once."""
    grill, bar = grill_and_bar(kitchen, printers, **SHORT_ACKS)
    order = kitchen.paid_order((GRILL, "2"), (BAR, "1"))

    jobs = kitchen.wait_jobs(order.id, "acked", 2)
    assert {(j["station"], j["acked_by"], j["ack_status"]) for j in jobs} == {
        ("grill", "grill-1", "printed"),
        ("bar", "bar-1", "printed"),
    }
    time.sleep(1.5 * ACK_TIMEOUT)  # past the ack timeout: nothing more may print
    assert [p.key for p in grill.printed()] == [(order.name, "grill", "new")]
    assert [p.key for p in bar.printed()] == [(order.name, "bar", "new")]
    assert "2 x Classic Burger" in grill.tickets[0].text and "Espresso" not in grill.tickets[0].text
    assert "1 x Espresso" in bar.tickets[0].text and "Burger" not in bar.tickets[0].text
    assert kitchen.order_state(order.id) == ("paid", "printed")


def test_device_ack_completes_the_job(kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]) -> None:
    """A KDS's "shown" ack ends the job: no more re-sends, and the order says its ticket arrived."""
    kitchen.add_device("grill-kds", "grill", kind="kds")
    device = mqtt_client().subscribe(f"edgehub/{kitchen.store}/kitchen/grill/jobs")
    device.publish(f"edgehub/{kitchen.store}/devices/grill-kds/status", {"online": True}, True)
    kitchen.bridge(**SHORT_ACKS)
    # Seen online first: a device's return re-sends at once what it was sent before.
    wait_until(lambda: kitchen.device_row("grill-kds")["online"], what="kds online")
    order = kitchen.paid_order((GRILL, "1"))

    _, job = device.next("/jobs")
    assert job["order"]["uuid"] == order.uuid and job["device"] == "grill-kds"
    assert job["kind"] == "new" and job["reprint"] is False
    assert job["lines"] == [{"name": "Classic Burger", "qty": "1", "note": "", "modifiers": []}]
    device.publish(
        f"edgehub/{kitchen.store}/devices/grill-kds/ack",
        {"job_id": job["job_id"], "status": "shown", "error": None},
    )
    (acked,) = kitchen.wait_jobs(order.id, "acked", 1)
    assert (acked["ack_status"], acked["acked_by"], acked["attempts"]) == ("shown", "grill-kds", 1)
    assert wait_until(lambda: kitchen.order_state(order.id) == ("paid", "printed"))
    time.sleep(2.5 * ACK_TIMEOUT)  # two ack timeouts: an acked job is never sent again
    assert device.drain() == []


def test_unacknowledged_job_is_sent_again_as_a_reprint(
    kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]
) -> None:
    """A lost ticket or ack must not lose the order: the same job comes again, marked reprint."""
    device = mqtt_client().subscribe(f"edgehub/{kitchen.store}/kitchen/grill/jobs")
    kitchen.bridge(**SHORT_ACKS)
    order = kitchen.paid_order((GRILL, "1"))

    _, first = device.next("/jobs")
    _, again = device.next("/jobs", timeout=5)  # the first was never acknowledged
    assert again["job_id"] == first["job_id"]
    assert (first["reprint"], again["reprint"]) == (False, True)
    assert again["attempt"] == first["attempt"] + 1
    (job,) = kitchen.jobs(order.id)
    assert job["state"] == "sent" and job["attempts"] >= 2


def test_resent_job_prints_once(kitchen: Kitchen, printers: Callable[..., SimPrinter]) -> None:
    """A printer slower than the ack timeout gets the job again and again, and prints it once."""
    slow = printers()
    kitchen.add_device("grill-1", "grill")
    kitchen.bridge(**SHORT_ACKS)
    adapter = kitchen.printer("grill-1", slow.port)
    wait_until(lambda: kitchen.device_row("grill-1")["paper"] == "ok", what="printer status")
    slow.set(slow=1.5 * ACK_TIMEOUT)  # the status answer alone outlasts the ack timeout
    order = kitchen.paid_order((GRILL, "1"))

    (job,) = kitchen.wait_jobs(order.id, "acked", 1)
    assert job["attempts"] >= 2, "the ack came after the ack timeout, so a re-send went out"
    wait_until(lambda: "reprint=True" in adapter.log_text(), what="a re-sent copy handled")
    slow.wait_tickets(1)
    time.sleep(ACK_TIMEOUT)
    assert [p.key for p in slow.printed()] == [(order.name, "grill", "new")]


def test_cancelled_order_sends_cancel_tickets_to_the_stations_that_printed_it(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """A cook must learn that an order already on the rail was cancelled, on the same station."""
    grill, bar = grill_and_bar(kitchen, printers)
    order = kitchen.paid_order((GRILL, "1"), (BAR, "1"))
    kitchen.wait_jobs(order.id, "acked", 2)

    kitchen.fire(order.id, "cancel")
    kitchen.wait_jobs(order.id, "acked", 4)
    assert [p.key for p in grill.printed()] == [
        (order.name, "grill", "new"),
        (order.name, "grill", "cancel"),
    ]
    assert [p.kind for p in bar.printed()] == ["new", "cancel"]
    assert "1 x Classic Burger" in grill.tickets[1].text


def test_order_cancelled_before_dispatch_prints_nothing(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """Paid then cancelled while the bridge was away: neither the ticket nor a cancel is printed."""
    grill = printers()
    kitchen.add_device("grill-1", "grill")
    order = kitchen.paid_order((GRILL, "1"))
    kitchen.fire(order.id, "cancel")
    kept = kitchen.paid_order((GRILL, "3"))
    kitchen.bridge(**SHORT_ACKS)
    kitchen.printer("grill-1", grill.port)

    kitchen.wait_jobs(kept.id, "acked", 1)
    time.sleep(ACK_TIMEOUT)
    assert Counter(p.order for p in grill.printed()) == {kept.name: 1}
    assert kitchen.jobs(order.id) == []
