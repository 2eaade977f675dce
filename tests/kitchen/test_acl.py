"""The bridge and a printer adapter work behind the store's real ACL, with their own logins."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from hub.mqtt_credentials import set_password
from tests.conftest import demo_database
from tests.ops.mosquitto import acl_template, running_broker

# The store's real ACL on a broker of the test's own, as the ops tests build it.
from tests.ops.test_mosquitto_acl import DEVICE, Broker, Client, broker  # noqa: F401
from tests.support.kitchen import GRILL, SHIPPED_CLAIM_WAIT, Kitchen, SimPrinter, wait_until


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
        kitchen.wait_jobs(order.id, "acked", 1)
        assert [p.order for p in grill.printed()] == [order.name]

        kds.subscribe(f"edgehub/{broker.store}/kitchen/grill/errors")
        bump = f"edgehub/{broker.store}/kitchen/grill/bump"
        kds.publish(bump, f'{{"order_uuid": "{order.uuid}", "action": "recall"}}'.encode())
        topic, _ = kds.next_message()
        assert topic.endswith("/kitchen/grill/errors")
        kds.publish(bump, f'{{"order_uuid": "{order.uuid}", "action": "start"}}'.encode())
        wait_until(lambda: kitchen.order_state(order.id)[0] == "preparing", what="started")

        # The ACL lets the bridge keep its claim and a second one read it.
        other = Kitchen(demo_database(tmp_path / "other.db"), bridge_url, store=broker.store)
        second = other.command("bridge", **SHIPPED_CLAIM_WAIT)
        assert second.returncode == 4, second.stderr
        assert f"store '{broker.store}' already runs: pid" in second.stderr
        # The device's login reads its own status back: a second adapter for it refuses.
        other.add_device(DEVICE, "grill")
        connect = f"tcp://127.0.0.1:{grill.port}"
        device_login = {"EDGEHUB_MQTT_URL": device_url, **SHIPPED_CLAIM_WAIT}
        adapter = other.command("printer", "--device", DEVICE, "--connect", connect, **device_login)
        assert adapter.returncode == 4, adapter.stderr
        assert f"the printer adapter of '{DEVICE}' already runs: pid" in adapter.stderr
    finally:
        kds.close()
        kitchen.close()


def test_without_the_claim_line_a_takeover_is_still_logged(tmp_path: Path) -> None:
    """An ACL from before the claim (the installer never rewrites it): no claim is kept or
    read, both bridges start, and the takeover on the broker is logged as what it is."""
    store = f"t{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    passwd, acl = tmp_path / "edgehub.passwd", tmp_path / "edgehub.acl"
    set_password(passwd, "edgehub-bridge", password)
    claim_line = f"topic readwrite edgehub/{store}/bridge/claim\n"
    assert claim_line in acl_template(store)
    acl.write_text(acl_template(store).replace(claim_line, ""))
    with running_broker(tmp_path, passwd, acl) as port:
        url = f"mqtt://edgehub-bridge:{password}@127.0.0.1:{port}"
        first = Kitchen(demo_database(tmp_path / "a" / "edgehub.db"), url, store=store)
        other = Kitchen(demo_database(tmp_path / "b" / "edgehub.db"), url, store=store)
        try:
            # The second waits as a shipped bridge would: it starts for finding no claim.
            logs = [first.bridge(), other.bridge(**SHIPPED_CLAIM_WAIT)]
            wait_until(
                lambda: any("mqtt_client_id_taken_over" in p.log_text() for p in logs),
                timeout=30,
                what="a takeover logged",
            )
            text = "".join(p.log_text() for p in logs)
            line = next(li for li in text.splitlines() if "mqtt_client_id_taken_over" in li)
            assert "ERROR" in line and f"edgehub-bridge-{store}" in line
            assert "second copy of this process" in line
        finally:
            first.close()
            other.close()
