"""The Mosquitto ACL and listener snippet that systemd/install lays down, on a real broker.

Each test starts its own broker from systemd/mosquitto/ (port and file paths
swapped for the test's), with the bridge's login and one KDS on station grill
added the way systemd/README.md tells an operator to, plus an observer that
may read the whole store, to see what the broker let through.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.ops.unitfile import SYSTEMD_DIR

TIMEOUT = 5.0
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_login(passwd: Path, username: str, password: str) -> None:
    create = [] if passwd.exists() else ["-c"]
    subprocess.run(
        ["mosquitto_passwd", *create, str(passwd), username],
        input=f"{password}\n{password}\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """Mosquitto with the installed ACL for a store of its own, on a free port."""
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed (.ci/run installs it)")
    store = f"t{uuid.uuid4().hex[:8]}"
    passwords = {name: uuid.uuid4().hex for name in ("edgehub-bridge", DEVICE, OBSERVER)}
    passwd, acl = tmp_path / "edgehub.passwd", tmp_path / "edgehub.acl"
    for name, password in passwords.items():
        add_login(passwd, name, password)
    template = (SYSTEMD_DIR / "mosquitto" / "edgehub.acl").read_text()
    acl.write_text(
        template.replace("@STORE@", store)
        + ADDED_BLOCKS.format(device=DEVICE, observer=OBSERVER, store=store)
    )
    port = free_port()
    conf = (SYSTEMD_DIR / "mosquitto" / "edgehub.conf").read_text()
    conf = conf.replace("listener 1883\n", f"listener {port} 127.0.0.1\n")
    conf = conf.replace("/etc/mosquitto/", f"{tmp_path}/")
    assert f"listener {port}" in conf and str(acl) in conf and str(passwd) in conf
    conf += "persistence false\nlog_dest stderr\n"
    if os.geteuid() == 0:
        conf += "user root\n"  # else it drops to "mosquitto", who cannot read tmp_path
    (tmp_path / "mosquitto.conf").write_text(conf)
    log = (tmp_path / "mosquitto.log").open("w")
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(tmp_path / "mosquitto.conf")], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "mosquitto.log").read_text())
                time.sleep(0.05)
        yield Broker(port, store, passwords)
    finally:
        proc.terminate()
        proc.wait(timeout=TIMEOUT)
        log.close()


class Client:
    """A paho client that logs in as ``username`` and queues what it receives."""

    def __init__(self, broker: Broker, username: str | None, password: str | None) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connected: queue.Queue[str] = queue.Queue()
        self.subscribed: queue.Queue[int] = queue.Queue()
        self.mqtt = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"{username}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv311,
        )
        if username is not None:
            self.mqtt.username_pw_set(username, password)
        self.mqtt.on_connect = lambda _c, _u, _f, reason, _p: self.connected.put(str(reason))
        self.mqtt.on_subscribe = lambda _c, _u, mid, _r, _p: self.subscribed.put(mid)
        self.mqtt.on_message = lambda _c, _u, msg: self.messages.put((msg.topic, msg.payload))
        self.mqtt.connect("127.0.0.1", broker.port)
        self.mqtt.loop_start()
        self.reason = self.connected.get(timeout=TIMEOUT)

    def subscribe(self, topic: str) -> None:
        _, mid = self.mqtt.subscribe(topic, qos=1)
        assert self.subscribed.get(timeout=TIMEOUT) == mid

    def publish(self, topic: str, payload: bytes) -> None:
        self.mqtt.publish(topic, payload, qos=1).wait_for_publish(timeout=TIMEOUT)

    def next_message(self) -> tuple[str, bytes]:
        return self.messages.get(timeout=TIMEOUT)

    def close(self) -> None:
        self.mqtt.disconnect()
        self.mqtt.loop_stop()


Login = Callable[[str | None], Client]


@pytest.fixture
def login(broker: Broker) -> Iterator[Login]:
    """Opens clients by username with the broker's passwords; closes them after the test."""
    opened: list[Client] = []

    def open_client(username: str | None) -> Client:
        password = broker.passwords.get(username or "")
        client = Client(broker, username, password)
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
    """A device must not forge another device's acks nor bump another station's orders."""
    device, observer = login(DEVICE), login(OBSERVER)
    observer.subscribe(f"edgehub/{broker.store}/#")
    refused = [
        f"edgehub/{broker.store}/devices/bar-kds-1/ack",
        f"edgehub/{broker.store}/kitchen/bar/bump",
        f"edgehub/{broker.store}/kitchen/grill/jobs",
        f"edgehub/{broker.store}/orders/ready",
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
