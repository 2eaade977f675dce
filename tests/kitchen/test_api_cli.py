"""Jobs and devices over HTTP and on the command line, as staff and operators see them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hub.web.api.operations_bodies import DevicePage, KitchenJobPage
from tests.support.api_client import Api
from tests.support.bodies import typed
from tests.support.hub_process import HubProcess, run_cli
from tests.support.kitchen import BAR, GRILL, Kitchen
from tests.support.mqtt_client import Mqtt


@pytest.fixture
def kitchen_api(kitchen: Kitchen) -> Iterator[Api]:
    """A served hub on the kitchen's database."""
    hub = HubProcess(kitchen.db).start()
    client = Api(hub.url)
    yield client
    client.close()
    hub.stop()


def test_jobs_and_devices_are_listed_with_their_state(
    kitchen: Kitchen, kitchen_api: Api, mqtt_client: Callable[..., Mqtt]
) -> None:
    """The kitchen screen shows which tickets wait on which device, and which device is away."""
    kitchen.add_device("grill-1", "grill")
    kitchen.add_device("bar-kds", "bar", kind="kds")
    kds = mqtt_client()
    kds.publish(f"edgehub/{kitchen.store}/devices/bar-kds/status", {"online": True}, retain=True)
    kitchen.bridge()
    order = kitchen.paid_order((GRILL, "1"), (BAR, "1"))
    kitchen.wait_jobs(order.id, "sent", 2)
    bar_job = next(j for j in kitchen.jobs(order.id) if j["station"] == "bar")
    kds.publish(
        f"edgehub/{kitchen.store}/devices/bar-kds/ack",
        {"job_id": bar_job["job_id"], "status": "shown"},
    )
    kitchen.wait_jobs(order.id, "acked", 1)
    api = kitchen_api

    body = typed(api.get("/api/v1/kitchen/jobs?state=sent", as_="kitchen"), KitchenJobPage)
    assert body["next"] is None
    (job,) = body["items"]
    assert (job["order_uuid"], job["station"], job["device"], job["kind"]) == (
        order.uuid,
        "grill",
        "grill-1",
        "new",
    )
    assert job["order_number"] == order.number and job["next_attempt_at"] is not None
    acked = api.get("/api/v1/kitchen/jobs?state=acked", as_="marco").json()["items"]
    assert [(j["station"], j["ack_status"]) for j in acked] == [("bar", "shown")]
    assert api.get("/api/v1/kitchen/jobs?state=lost", as_="kitchen").status_code in (400, 422)
    assert api.get("/api/v1/kitchen/jobs", as_="ana").status_code == 403

    page = typed(api.get("/api/v1/devices?limit=1", as_="kitchen"), DevicePage)
    assert [d["id"] for d in page["items"]] == ["bar-kds"] and page["next"]
    rest = typed(api.get(f"/api/v1/devices?after={page['next']}", as_="kitchen"), DevicePage)
    assert rest["next"] is None
    devices = {d["id"]: d for d in page["items"] + rest["items"]}
    assert devices["bar-kds"]["online"] is True and devices["bar-kds"]["pending_jobs"] == 0
    grill = devices["grill-1"]
    assert (grill["online"], grill["last_seen"], grill["pending_jobs"]) == (False, None, 1)
    assert set(grill) >= {"id", "kind", "station", "online", "last_seen", "paper", "pending_jobs"}
    assert api.get("/api/v1/devices", as_="ana").status_code == 200  # a till shows printer trouble

    order_view = api.get(f"/api/v1/orders/{order.id}").json()
    assert order_view["kitchen_status"] == "sent"  # the grill has not confirmed yet


def test_device_cli_registers_lists_and_refuses_bad_names(kitchen: Kitchen) -> None:
    """Operators register printers by hand; a name unfit for a topic is refused up front."""
    added = run_cli(
        kitchen.db, "device", "add", "grill-kds-1", "--station", "grill", "--role", "backup",
        "--kind", "kds",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added" in added.stdout
    again = run_cli(kitchen.db, "device", "add", "grill-kds-1", "--station", "bar")
    assert again.returncode == 0 and "updated" in again.stdout
    listed = run_cli(kitchen.db, "device", "list")
    assert "grill-kds-1" in listed.stdout and "bar" in listed.stdout
    for bad in ("grill/1", "edgehub-bridge", "a+b"):
        refused = run_cli(kitchen.db, "device", "add", bad, "--station", "grill")
        assert refused.returncode == 2 and "device id" in refused.stderr
    assert run_cli(kitchen.db, "device", "add", "x", "--station", "#").returncode == 2
    assert run_cli(kitchen.db, "device", "remove", "grill-kds-1").returncode == 0
    assert run_cli(kitchen.db, "device", "remove", "grill-kds-1").returncode == 2


def test_printer_refuses_an_unknown_device_or_target(kitchen: Kitchen) -> None:
    """A typo in a unit's settings fails the start loudly instead of printing nowhere."""
    unknown = run_cli(kitchen.db, "printer", "--device", "ghost", "--connect", "tcp://h:9100")
    assert unknown.returncode == 2 and "not registered" in unknown.stderr
    kitchen.add_device("grill-1", "grill")
    bad = run_cli(kitchen.db, "printer", "--device", "grill-1", "--connect", "lpt1")
    assert bad.returncode == 2 and "tcp://" in bad.stderr
    no_broker = run_cli(kitchen.db, "bridge")  # run_cli clears EDGEHUB_MQTT_URL
    assert no_broker.returncode == 2 and "EDGEHUB_MQTT_URL" in no_broker.stderr
