"""The Mosquitto ACL and listener snippet that systemd/install lays down, on a real broker.

Each test starts its own broker from systemd/mosquitto/ (port and file paths
swapped for the test's), with the bridge's login and one KDS on station grill
added the way systemd/README.md tells an operator to, plus an observer that
may read the whole store, to see what the broker let through.
"""

from __future__ import annotations

import queue
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.mqtt_credentials import set_password
from tests.ops.mosquitto import Client, acl_template, running_broker

DEVICE = "grill-kds-1"
OBSERVER = "test-observer"
ADDED_BLOCKS = """
user {device}
topic read edgehub/{store}/kitchen/grill/jobs
topic write edgehub/{store}/kitchen/grill/bump
topic read edgehub/{store}/kitchen/grill/errors

user {observer}
topic read edgehub/{store}/#
"""


@dataclass(frozen=True)
class Broker:
    port: int
    store: str
    passwords: dict[str, str]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """Mosquitto with the installed ACL for a store of its own, on a free port."""
    store = f"t{uuid.uuid4().hex[:8]}"
    passwords = {name: uuid.uuid4().hex for name in ("edgehub-bridge", DEVICE, OBSERVER)}
    passwd, acl = tmp_path / "edgehub.passwd", tmp_path / "edgehub.acl"
    for name, password in passwords.items():
        set_password(passwd, name, password)
    acl.write_text(
        acl_template(store) + ADDED_BLOCKS.format(device=DEVICE, observer=OBSERVER, store=store)
    )
    with running_broker(tmp_path, passwd, acl) as port:
        yield Broker(port, store, passwords)


Login = Callable[[str | None], Client]


@pytest.fixture
def login(broker: Broker) -> Iterator[Login]:
    """Opens clients by username with the broker's passwords; closes them after the test."""
    opened: list[Client] = []

    def open_client(username: str | None) -> Client:
        password = broker.passwords.get(username or "")
        client = Client(broker.port, username, password)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def test_anonymous_clients_are_refused(login: Login) -> None:
    """Anyone on the store Wi-Fi could otherwise print tickets or fake bumps."""
    assert login(None).reason == "Not authorized"


def test_device_receives_only_its_stations_jobs(broker: Broker, login: Login) -> None:
    """A grill display showing the bar's tickets sends cooks to make the wrong food."""
    device, bridge = login(DEVICE), login("edgehub-bridge")
    assert (device.reason, bridge.reason) == ("Success", "Success")
    device.subscribe(f"edgehub/{broker.store}/kitchen/+/jobs")
    # Refused first, allowed last: the broker keeps one publisher's order, so
    # had the bar's job been let through it would arrive before the grill's.
    bridge.publish(f"edgehub/{broker.store}/kitchen/bar/jobs", b"bar")
    bridge.publish(f"edgehub/{broker.store}/kitchen/grill/jobs", b"grill")
    assert device.next_message() == (f"edgehub/{broker.store}/kitchen/grill/jobs", b"grill")


def test_device_publishes_only_as_itself_and_for_its_station(broker: Broker, login: Login) -> None:
    """A device must not forge another device's acks, bump another station's orders, nor
    claim the store's bridge."""
    device, observer = login(DEVICE), login(OBSERVER)
    observer.subscribe(f"edgehub/{broker.store}/#")
    refused = [
        f"edgehub/{broker.store}/devices/bar-kds-1/ack",
        f"edgehub/{broker.store}/kitchen/bar/bump",
        f"edgehub/{broker.store}/kitchen/grill/jobs",
        f"edgehub/{broker.store}/orders/ready",
        f"edgehub/{broker.store}/bridge/claim",  # a forged claim would keep the bridge out
    ]
    allowed = [
        f"edgehub/{broker.store}/devices/{DEVICE}/ack",
        f"edgehub/{broker.store}/devices/{DEVICE}/status",
        f"edgehub/{broker.store}/kitchen/grill/bump",
    ]
    # Refused first: had any been let through, it would arrive before these.
    for topic in refused + allowed:
        device.publish(topic, b"x")
    assert [observer.next_message()[0] for _ in allowed] == allowed


def test_kds_hears_refused_bumps_of_its_station_only(broker: Broker, login: Login) -> None:
    """The bridge may answer a bump on the errors topic; a KDS reads its own station's answers."""
    device, bridge = login(DEVICE), login("edgehub-bridge")
    device.subscribe(f"edgehub/{broker.store}/kitchen/+/errors")
    bridge.publish(f"edgehub/{broker.store}/kitchen/bar/errors", b"bar")
    bridge.publish(f"edgehub/{broker.store}/kitchen/grill/errors", b"grill")
    assert device.next_message() == (f"edgehub/{broker.store}/kitchen/grill/errors", b"grill")


def test_only_the_bridge_keeps_and_reads_its_claim(broker: Broker, login: Login) -> None:
    """The bridge's retained claim is how a second bridge learns the store is taken."""
    device, bridge = login(DEVICE), login("edgehub-bridge")
    topic = f"edgehub/{broker.store}/bridge/claim"
    device.subscribe(topic)
    bridge.subscribe(topic)
    device.publish(topic, b"forged")  # refused first: had it passed, it would arrive first
    bridge.publish(topic, b"claim")
    assert bridge.next_message() == (topic, b"claim")
    with pytest.raises(queue.Empty):
        device.messages.get(timeout=0.3)


def test_a_device_reads_back_its_own_status_only(broker: Broker, login: Login) -> None:
    """A printer adapter reads its device's status at start to see if another runs it."""
    device, observer = login(DEVICE), login(OBSERVER)
    device.subscribe(f"edgehub/{broker.store}/devices/+/status")
    other = f"edgehub/{broker.store}/devices/{OBSERVER}/status"  # the pattern lets it write this
    own = f"edgehub/{broker.store}/devices/{DEVICE}/status"
    observer.publish(other, b"theirs")  # first: had the device heard it, it would come first
    device.publish(own, b"mine")
    assert device.next_message() == (own, b"mine")
