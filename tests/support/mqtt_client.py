"""A plain paho client for tests: a KDS, a fake device or an observer on a real broker."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from tests.support.hub_process import free_port

TIMEOUT = 10.0


class Mqtt:
    """Connects at once; queues every message on the topics it subscribes to."""

    def __init__(self, port: int = 1883, client_id: str | None = None) -> None:
        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self._connected: queue.Queue[str] = queue.Queue()
        self._subacks: queue.Queue[int] = queue.Queue()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-{uuid.uuid4().hex[:10]}",
            protocol=mqtt.MQTTv311,
        )
        self.client.on_connect = lambda _c, _u, _f, reason, _p: self._connected.put(str(reason))
        self.client.on_subscribe = lambda _c, _u, mid, _r, _p: self._subacks.put(mid)
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, m.payload, m.retain))
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        reason = self._connected.get(timeout=TIMEOUT)
        assert reason == "Success", reason

    def subscribe(self, topic: str) -> Mqtt:
        _, mid = self.client.subscribe(topic, qos=1)
        while self._subacks.get(timeout=TIMEOUT) != mid:
            pass
        return self

    def publish(self, topic: str, payload: bytes | dict[str, Any], retain: bool = False) -> None:
        body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
        self.client.publish(topic, body, qos=1, retain=retain).wait_for_publish(TIMEOUT)

    def next(self, topic_suffix: str = "", timeout: float = TIMEOUT) -> tuple[str, Any]:
        """The next message whose topic ends with ``topic_suffix``, JSON-decoded."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no message on *{topic_suffix} within {timeout}s")
            topic, payload, _ = self.messages.get(timeout=remaining)
            if topic.endswith(topic_suffix):
                return topic, json.loads(payload)

    def drain(self) -> list[tuple[str, bytes]]:
        out = []
        while True:
            try:
                topic, payload, _ = self.messages.get_nowait()
            except queue.Empty:
                return out
            out.append((topic, payload))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class PrivateBroker:
    """A Mosquitto of the test's own, on a free port, that the test may kill and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="edgehub-mosq-"))
        conf = self.dir / "mosquitto.conf"
        text = (
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stderr\n"
        )
        if os.geteuid() == 0:
            text += "user root\n"  # else it drops to "mosquitto", a needless difference
        conf.write_text(text)
        self.conf = conf
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> PrivateBroker:
        log = (self.dir / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError((self.dir / "mosquitto.log").read_text())

    def freeze(self) -> None:
        """SIGSTOP: connections stay open, nothing is answered (no PUBACK) until killed."""
        assert self.proc is not None and self.proc.poll() is None
        self.proc.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)

    def stop(self) -> None:
        self.kill()
