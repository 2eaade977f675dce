"""A private Mosquitto for a test: systemd/mosquitto/edgehub.conf on a free port, given files.

The shared broker on 1883 is left alone; each test gets its own process, its
own password file and ACL in ``tmp_path`` (and, for TLS, its own certificates),
and stops it afterwards.
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
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.ops.certificates import BrokerFiles
from tests.ops.unitfile import SYSTEMD_DIR
from tests.support.hub_process import free_port

TIMEOUT = 5.0


def acl_template(store: str) -> str:
    """The ACL as systemd/install lays it down for ``store``."""
    return (SYSTEMD_DIR / "mosquitto" / "edgehub.acl").read_text().replace("@STORE@", store)


@dataclass(frozen=True)
class Ports:
    """Where a private broker listens: the plain listener, and the TLS one if it has it."""

    plain: int
    tls: int | None = None


def snippet_tls_lines() -> list[str]:
    """The installed snippet's commented TLS listener (four lines), without the "#"."""
    conf = (SYSTEMD_DIR / "mosquitto" / "edgehub.conf").read_text().splitlines()
    start = conf.index("#listener 8883")
    return [line.removeprefix("#") for line in conf[start : start + 4]]


def tls_snippet(port: int, files: BrokerFiles) -> str:
    """The commented TLS listener of the installed snippet, uncommented as an installer would.

    systemd/README.md has them copied to conf.d/edgehub-tls.conf with the "#"
    removed; the same lines, with the test's port and files, are what this returns.
    """
    block = snippet_tls_lines()
    paths = {"certfile": files.cert, "keyfile": files.key, "cafile": files.ca}
    assert [line.split(" ")[0] for line in block] == ["listener", *paths], block
    out = [f"listener {port} 127.0.0.1"]
    out += [f"{option} {paths[option]}" for option in (line.split(" ")[0] for line in block[1:])]
    return "\n".join(out) + "\n"


@contextmanager
def running_broker(workdir: Path, passwd: Path, acl: Path) -> Iterator[int]:
    """Mosquitto with the installed listener snippet, on a free port; yields the port."""
    with running_ports(workdir, passwd, acl) as ports:
        yield ports.plain


@contextmanager
def running_ports(
    workdir: Path, passwd: Path, acl: Path, tls: BrokerFiles | None = None
) -> Iterator[Ports]:
    """As ``running_broker``; with ``tls``, also the snippet's TLS listener on a port of its own.

    The TLS lines go in a file of their own under ``include_dir``, the way an
    installer adds them beside the installed snippet.
    """
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed (.ci/run installs it)")
    ports = Ports(free_port(), free_port() if tls is not None else None)
    conf = (SYSTEMD_DIR / "mosquitto" / "edgehub.conf").read_text()
    conf = conf.replace("listener 1883\n", f"listener {ports.plain} 127.0.0.1\n")
    conf = conf.replace("/etc/mosquitto/edgehub.passwd", str(passwd))
    conf = conf.replace("/etc/mosquitto/edgehub.acl", str(acl))
    assert f"listener {ports.plain}" in conf and str(acl) in conf and str(passwd) in conf
    conf += "persistence false\nlog_dest stderr\n"
    if os.geteuid() == 0:
        conf += "user root\n"  # else it drops to "mosquitto", who cannot read tmp_path
    if tls is not None and ports.tls is not None:
        conf_d = workdir / "conf.d"
        conf_d.mkdir(exist_ok=True)
        (conf_d / "edgehub-tls.conf").write_text(tls_snippet(ports.tls, tls))
        conf += f"include_dir {conf_d}\n"
    (workdir / "mosquitto.conf").write_text(conf)
    log_path = workdir / "mosquitto.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ["mosquitto", "-c", str(workdir / "mosquitto.conf")], stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + TIMEOUT
            for port in [p for p in (ports.plain, ports.tls) if p is not None]:
                while True:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                        break
                    except OSError:
                        if proc.poll() is not None or time.monotonic() > deadline:
                            pytest.fail(log_path.read_text())
                        time.sleep(0.05)
            yield ports
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
