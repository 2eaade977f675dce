"""A kitchen screen that bumps: it hears each station's tickets and bumps them ready.

It speaks MQTT as a KDS with its own firmware does (docs/kitchen.md): jobs
in on ``kitchen/{station}/jobs``, bumps out on ``kitchen/{station}/bump``.
paho reconnects it when the broker restarts; a bump published while the
broker is away is lost with it, as on a real screen, and the cook bumps again
when the ticket is sent again.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid

import paho.mqtt.client as mqtt

BUMP_AFTER = 0.3  # seconds a cook takes


class Kds:
    def __init__(self, port: int, store: str) -> None:
        self.root = f"edgehub/{store}"
        self.bumped: set[tuple[str, str]] = set()
        self._todo: queue.Queue[tuple[float, str, str]] = queue.Queue()
        self._stop = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"kds-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.client.connect_async("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        self._worker = threading.Thread(target=self._bump_loop, name="kds", daemon=True)
        self._worker.start()

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe(f"{self.root}/kitchen/+/jobs", qos=1)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        try:
            job = json.loads(message.payload)
        except ValueError:
            return
        if job.get("kind") == "new":
            self._todo.put((time.monotonic() + BUMP_AFTER, job["order"]["uuid"], job["station"]))

    def _bump_loop(self) -> None:
        while not self._stop.is_set():
            try:
                due, order_uuid, station = self._todo.get(timeout=0.2)
            except queue.Empty:
                continue
            time.sleep(max(0.0, due - time.monotonic()))
            body = json.dumps({"order_uuid": order_uuid, "action": "ready"})
            self.client.publish(f"{self.root}/kitchen/{station}/bump", body, qos=1)
            self.bumped.add((order_uuid, station))

    def close(self) -> None:
        self._stop.set()
        self._worker.join(5)
        self.client.disconnect()
        self.client.loop_stop()
