"""A private Mosquitto for a test: systemd/mosquitto/edgehub.conf on a free port, given files.

The shared broker on 1883 is left alone; each test gets its own process, its
own password file and ACL in ``tmp_path``, and stops it afterwards.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.ops.unitfile import SYSTEMD_DIR
from tests.support.hub_process import free_port

TIMEOUT = 5.0


def acl_template(store: str) -> str:
    """The ACL as systemd/install lays it down for ``store``."""
    return (SYSTEMD_DIR / "mosquitto" / "edgehub.acl").read_text().replace("@STORE@", store)


@contextmanager
def running_broker(workdir: Path, passwd: Path, acl: Path) -> Iterator[int]:
    """Mosquitto with the installed listener snippet, on a free port; yields the port."""
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed (.ci/run installs it)")
    port = free_port()
    conf = (SYSTEMD_DIR / "mosquitto" / "edgehub.conf").read_text()
    conf = conf.replace("listener 1883\n", f"listener {port} 127.0.0.1\n")
    conf = conf.replace("/etc/mosquitto/edgehub.passwd", str(passwd))
    conf = conf.replace("/etc/mosquitto/edgehub.acl", str(acl))
    assert f"listener {port}" in conf and str(acl) in conf and str(passwd) in conf
    conf += "persistence false\nlog_dest stderr\n"
    if os.geteuid() == 0:
        conf += "user root\n"  # else it drops to "mosquitto", who cannot read tmp_path
    (workdir / "mosquitto.conf").write_text(conf)
    log_path = workdir / "mosquitto.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ["mosquitto", "-c", str(workdir / "mosquitto.conf")], stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + TIMEOUT
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(log_path.read_text())
                    time.sleep(0.05)
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=TIMEOUT)


class Client:
    """A paho client that logs in as ``username`` and queues what it receives."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
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
        self.mqtt.connect("127.0.0.1", port)
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
