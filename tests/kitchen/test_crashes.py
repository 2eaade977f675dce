"""Killed bridges and restarted brokers lose no ticket and print none twice."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hub.orders.models import Order
from tests.conftest import demo_database
from tests.support.kitchen import BAR, GRILL, Kitchen, SimPrinter, ack_timing, wait_until
from tests.support.mqtt_client import PrivateBroker

ACK_TIMEOUT = 0.5
"""The bridges' ack timeout and re-send scan (the rig's are 1 s): the tests' times are
counted in it, the slow printer's pace and the wait that proves nothing prints twice."""


def test_bridge_killed_between_publish_and_ack_loses_and_repeats_nothing(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """SIGKILL while tickets are on their way: after restart each is acknowledged, printed once."""
    grill = printers(slow=ACK_TIMEOUT / 2)  # an ack timeout per ticket: acks come after the kill
    kitchen.add_device("grill-1", "grill")
    bridge = kitchen.bridge(**ack_timing(ACK_TIMEOUT))
    kitchen.printer("grill-1", grill.port)
    orders = [kitchen.paid_order((GRILL, str(n))) for n in (1, 2, 3)]
    wait_until(
        lambda: all(j["state"] == "sent" for o in orders for j in kitchen.jobs(o.id)),
        what="jobs at the broker",
    )
    assert len(grill.tickets) < 3, "the kill must come before the printer acknowledged them all"
    bridge.kill()
    orders.append(kitchen.paid_order((GRILL, "4")))  # paid while no bridge runs

    kitchen.bridge(**ack_timing(ACK_TIMEOUT))
    for order in orders:
        kitchen.wait_jobs(order.id, "acked", 1, timeout=20)
    time.sleep(1.5 * ACK_TIMEOUT)  # re-sends after the restart are dropped by the adapter
    assert Counter(p.key for p in grill.printed()) == {(o.name, "grill", "new"): 1 for o in orders}


def test_broker_restart_mid_stream_delivers_every_job(
    tmp_path: Path, broker: PrivateBroker, printers: Callable[..., SimPrinter]
) -> None:
    """Mosquitto keeps no session across its restart; SQLite does, so every ticket still prints."""
    kitchen = Kitchen(demo_database(tmp_path / "edgehub.db"), broker.url)
    grill, bar = printers(), printers()
    kitchen.add_device("grill-1", "grill")
    kitchen.add_device("bar-1", "bar")
    try:
        kitchen.bridge(**ack_timing(ACK_TIMEOUT))
        kitchen.printer("grill-1", grill.port)
        kitchen.printer("bar-1", bar.port)
        orders: list[Order] = []
        done = threading.Event()

        def till() -> None:
            for n in range(24):
                orders.append(kitchen.paid_order((GRILL, "1"), (BAR, str(n % 3 + 1))))
                time.sleep(0.1)
            done.set()

        worker = threading.Thread(target=till)
        worker.start()
        wait_until(lambda: len(orders) >= 6, what="the first orders")
        broker.kill()
        time.sleep(1.0)  # orders keep coming while the broker is gone
        broker.start()
        worker.join(30)
        assert done.is_set()

        for order in orders:
            kitchen.wait_jobs(order.id, "acked", 2, timeout=30)
        time.sleep(1.5 * ACK_TIMEOUT)  # re-sends after an ack timeout are dropped by the adapter
        expected = {o.name for o in orders}
        assert Counter(p.order for p in grill.printed()) == dict.fromkeys(expected, 1)
        assert Counter(p.order for p in bar.printed()) == dict.fromkeys(expected, 1)
    finally:
        kitchen.close()
