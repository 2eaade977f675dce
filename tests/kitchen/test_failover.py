"""A station whose primary device cannot print gets its tickets on the backup, visibly."""

from __future__ import annotations

import time
from collections.abc import Callable

from firmware_bridge.messages import DeviceStatus
from firmware_bridge.presence import record_status
from hub.devices import list_devices
from tests.support.kitchen import GRILL, Kitchen, SimPrinter, wait_until

PRESENCE_GRACE = 2.0  # seconds the bridge waits to hear from a device it believes online


def test_primary_offline_backup_prints(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """A dead primary printer (gone without a goodbye) must not leave the grill without tickets."""
    primary, backup = printers(), printers()
    kitchen.add_device("grill-1", "grill")
    kitchen.add_device("grill-2", "grill", role="backup")
    kitchen.bridge()
    first = kitchen.printer("grill-1", primary.port)
    kitchen.printer("grill-2", backup.port)
    wait_until(lambda: kitchen.device_row("grill-1")["online"], what="primary online")
    wait_until(lambda: kitchen.device_row("grill-2")["online"], what="backup online")

    first.kill()  # the broker publishes its last will after 1.5 keepalives (3 s here)
    wait_until(lambda: not kitchen.device_row("grill-1")["online"], what="primary's last will")
    order = kitchen.paid_order((GRILL, "1"))

    (job,) = kitchen.wait_jobs(order.id, "acked", 1)
    assert (job["device"], job["backup"], job["acked_by"]) == ("grill-2", 1, "grill-2")
    (printed,) = backup.printed()
    assert printed.key == (order.name, "grill", "new") and printed.backup
    assert primary.tickets == []
    offline = [e for e in kitchen.events("device.status") if e["device"] == "grill-1"]
    assert offline[-1]["online"] is False


def test_paper_out_fails_over_and_shows_in_device_status(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """The printer says paper out when the ticket comes: the backup prints it, the hub shows why."""
    primary, backup = printers(), printers()
    kitchen.add_device("grill-1", "grill")
    kitchen.add_device("grill-2", "grill", role="backup")
    kitchen.bridge()
    # Status polls far apart: the adapter learns of the empty roll from the job itself.
    kitchen.printer("grill-1", primary.port, "--status-interval", "60")
    kitchen.printer("grill-2", backup.port)
    wait_until(lambda: kitchen.device_row("grill-1")["paper"] == "ok", what="primary status")
    wait_until(lambda: kitchen.device_row("grill-2")["online"], what="backup online")
    primary.set(paper_out=True)
    order = kitchen.paid_order((GRILL, "2"))

    (job,) = kitchen.wait_jobs(order.id, "acked", 1)
    assert (job["acked_by"], job["backup"]) == ("grill-2", 1)
    assert job["attempts"] == 2 and job["last_error"] is None
    assert [p.backup for p in backup.printed()] == [True]
    assert primary.tickets == []
    devices = {d["id"]: d for d in kitchen.write(list_devices)}
    assert (devices["grill-1"]["online"], devices["grill-1"]["paper"]) == (True, "out")
    assert devices["grill-2"]["paper"] == "ok"
    assert any(
        e["device"] == "grill-1" and e["paper"] == "out" and not e["healthy"]
        for e in kitchen.events("device.status")
    )


def test_jobs_return_to_the_primary_once_it_can_print(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """With no backup, a ticket waits through the paper change and prints as soon as it is done."""
    primary = printers(paper_out=True)
    kitchen.add_device("grill-1", "grill")
    kitchen.bridge(EDGEHUB_KITCHEN_RETRY_MAX_SECONDS="30", EDGEHUB_KITCHEN_ACK_TIMEOUT_SECONDS="30")
    kitchen.printer("grill-1", primary.port, "--status-interval", "0.3")
    wait_until(lambda: kitchen.device_row("grill-1")["paper"] == "out", what="paper out seen")
    order = kitchen.paid_order((GRILL, "1"))
    time.sleep(0.5)
    assert kitchen.jobs(order.id)[0]["state"] in ("pending", "sent", "failed")

    primary.set(paper_out=False)  # the next poll reports paper: the job goes at once, not in 30 s
    (job,) = kitchen.wait_jobs(order.id, "acked", 1, timeout=5)
    assert job["acked_by"] == "grill-1" and not job["backup"]
    assert [p.key for p in primary.printed()] == [(order.name, "grill", "new")]


def test_device_silent_since_the_bridge_connected_is_presumed_offline(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """A retained "online" can outlive its device (it died while the broker was down)."""
    backup = printers()
    kitchen.add_device("grill-1", "grill")
    kitchen.add_device("grill-2", "grill", role="backup")
    ok = DeviceStatus(online=True, paper="ok", cover="closed", error=None, firmware="x")
    kitchen.write(record_status, "grill-1", ok)  # what the hub last knew of a now-dead primary
    # The backup's adapter first: the order is then placed as soon as the bridge is up,
    # well within the grace it gives grill-1 (three keepalives, 6 s, unless set).
    kitchen.printer("grill-2", backup.port)
    bridge = kitchen.bridge(EDGEHUB_KITCHEN_PRESENCE_GRACE_SECONDS=str(PRESENCE_GRACE))
    order = kitchen.paid_order((GRILL, "1"))  # goes to grill-1 first: nothing says it is gone

    (job,) = kitchen.wait_jobs(order.id, "acked", 1, timeout=15)  # once the grace is over
    assert (job["acked_by"], job["backup"]) == ("grill-2", 1)
    assert job["attempts"] >= 2  # sent to grill-1 within the grace, not straight to grill-2
    assert kitchen.device_row("grill-1")["online"] is False
    assert "device_presumed_offline device=grill-1" in bridge.log_text()
