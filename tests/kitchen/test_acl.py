"""The bridge and a printer adapter work behind the store's real ACL, with their own logins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import demo_database

# The store's real ACL on a broker of the test's own, as the ops tests build it.
from tests.ops.test_mosquitto_acl import DEVICE, Broker, Client, broker  # noqa: F401
from tests.support.kitchen import GRILL, Kitchen, SimPrinter, wait_until


def test_bridge_and_adapter_need_no_more_than_the_acl_grants(
    tmp_path: Path,
    broker: Broker,  # noqa: F811  (the fixture imported above)
    printers: Callable[..., SimPrinter],
) -> None:
    """Tickets, acks, status, bumps and refusals all flow with the logins systemd/README gives."""
    url = "mqtt://{user}:{password}@127.0.0.1:" + str(broker.port)
    bridge_url = url.format(user="edgehub-bridge", password=broker.passwords["edgehub-bridge"])
    device_url = url.format(user=DEVICE, password=broker.passwords[DEVICE])
    kitchen = Kitchen(demo_database(tmp_path / "edgehub.db"), bridge_url, store=broker.store)
    grill = printers()
    kitchen.add_device(DEVICE, "grill")
    kds = Client(broker.port, DEVICE, broker.passwords[DEVICE])
    try:
        kitchen.bridge()
        kitchen.printer(DEVICE, grill.port, EDGEHUB_MQTT_URL=device_url)
        wait_until(lambda: kitchen.device_row(DEVICE)["paper"] == "ok", what="device status")
        order = kitchen.paid_order((GRILL, "1"))
        kitchen.wait_jobs(order["id"], "acked", 1)
        assert [p.order for p in grill.printed()] == [order["name"]]

        kds.subscribe(f"edgehub/{broker.store}/kitchen/grill/errors")
        bump = f"edgehub/{broker.store}/kitchen/grill/bump"
        kds.publish(bump, f'{{"order_uuid": "{order["uuid"]}", "action": "recall"}}'.encode())
        topic, _ = kds.next_message()
        assert topic.endswith("/kitchen/grill/errors")
        kds.publish(bump, f'{{"order_uuid": "{order["uuid"]}", "action": "start"}}'.encode())
        wait_until(lambda: kitchen.order_state(order["id"])[0] == "preparing", what="started")
    finally:
        kds.close()
        kitchen.close()
