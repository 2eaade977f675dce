"""Garbage on the device topics is rejected and logged; the bridge and the adapter carry on."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.support.kitchen import GRILL, Kitchen, SimPrinter, wait_until
from tests.support.mqtt_client import Mqtt

BLOB = b"{" + b"x" * (1024 * 1024) + b"}"

GARBAGE: dict[str, list[bytes]] = {
    "devices/grill-1/ack": [
        b"{not json",
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
        json.dumps({"job_id": 5, "status": "printed"}).encode(),
        json.dumps({"job_id": "x", "status": "eaten"}).encode(),
        json.dumps({"job_id": "x", "status": "failed", "error": ["no"]}).encode(),
        BLOB,
    ],
    "devices/grill-1/status": [
        b"",
        json.dumps({"online": "yes"}).encode(),
        json.dumps({"online": True, "paper": "purple"}).encode(),
        json.dumps({"online": True, "cover": 1}).encode(),
        BLOB,
    ],
    "kitchen/grill/bump": [
        b"null",
        json.dumps({"order_uuid": 7, "action": "ready"}).encode(),
        json.dumps({"order_uuid": "abc", "action": "explode"}).encode(),
        json.dumps({"order_uuid": "a" * 5000, "action": "ready"}).encode(),
        BLOB,
    ],
}
UNKNOWN_JOB = json.dumps({"job_id": "no-such-job", "status": "printed", "error": None}).encode()


def test_malformed_payloads_are_rejected_and_the_bridge_keeps_working(
    kitchen: Kitchen, printers: Callable[..., SimPrinter], mqtt_client: Callable[..., Mqtt]
) -> None:
    """A buggy or hostile device on the LAN must not stop the kitchen, nor change any state."""
    grill = printers()
    kitchen.add_device("grill-1", "grill")
    bridge = kitchen.bridge()
    adapter = kitchen.printer("grill-1", grill.port)
    wait_until(lambda: kitchen.device_row("grill-1")["paper"] == "ok", what="device status")
    events_before = kitchen.query("SELECT COUNT(*) FROM events")[0][0]
    rogue = mqtt_client()

    for suffix, payloads in GARBAGE.items():
        for payload in payloads:
            rogue.publish(f"edgehub/{kitchen.store}/{suffix}", payload)
    rogue.publish(f"edgehub/{kitchen.store}/devices/grill-1/ack", UNKNOWN_JOB)
    for payload in (b"\x00garbage", b"{}", json.dumps({"job_id": "j1", "lines": 3}).encode(), BLOB):
        rogue.publish(f"edgehub/{kitchen.store}/kitchen/grill/jobs", payload)

    rejected = sum(len(p) for p in GARBAGE.values())
    wait_until(
        lambda: bridge.log_text().count("mqtt_message_rejected") >= rejected,
        what="every bad payload logged",
    )
    wait_until(lambda: "result=unknown" in bridge.log_text(), what="unknown job logged")
    log = bridge.log_text()
    assert "Traceback" not in log and "x" * 100 not in log  # reasons, never payloads
    assert kitchen.query("SELECT COUNT(*) FROM events")[0][0] == events_before
    assert kitchen.device_row("grill-1") == {
        "online": True,
        "paper": "ok",
        "cover": "closed",
        "error": None,
    }

    order = kitchen.paid_order((GRILL, "1"))  # and the kitchen still works
    kitchen.wait_jobs(order.id, "acked", 1)
    assert [p.key for p in grill.printed()] == [(order.name, "grill", "new")]
    assert bridge.alive() and adapter.alive()
    assert adapter.log_text().count("job_rejected") == 3  # "{}" has no job_id either
    assert "invalid ticket" in adapter.log_text()  # {"job_id": "j1", "lines": 3}: acked failed
