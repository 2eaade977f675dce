"""A connection that comes back while a job is being claimed or sent sends that job once.

The dispatcher runs in the test's own event loop, with the real ``MqttLink``
on a Mosquitto of the test's own and the real ``Store`` on the test's SQLite
file. The window is made to happen every time, not hoped for: a TEMP trigger
on the store's writer connection calls a function that holds the writer
thread inside the claim's transaction, after the claim has stamped the job
and before it commits, while the test kills and restarts the broker and waits
until the link has reconnected on the event loop.

The link itself must not re-send either: paho would publish again on the new
connection what the old one never confirmed. A frozen broker (SIGSTOP) keeps
that PUBACK from coming.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from firmware_bridge.dispatcher import Dispatcher
from firmware_bridge.mqtt import ConnectionLost, MqttLink, NotConnected
from hub.broker_url import MqttUrl
from hub.db.store import Store
from hub.mqtt_topics import Topics
from hub.orders.models import Order
from tests.conftest import demo_database
from tests.support.kitchen import GRILL, TIMEOUT, Kitchen, wait_until, wait_until_async
from tests.support.mqtt_client import Mqtt, PrivateBroker

ACK_TIMEOUT = 60.0
"""No device acks in these tests: no re-send may come from the backoff while they run."""
RESCAN = 0.05
"""How soon the dispatcher finds a job made due by the test's own write (1 s shipped)."""


class ClaimPause:
    """Holds the writer thread inside the next claim of a job (its ``attempts`` update)."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.entered = threading.Event()
        self.release = threading.Event()

    def install(self, db: sqlite_utils.Database) -> None:
        db.conn.create_function("edgehub_test_claim_pause", 0, self._pause)
        db.execute(
            "CREATE TEMP TRIGGER claim_pause AFTER UPDATE OF attempts ON main.kitchen_jobs "
            "BEGIN SELECT edgehub_test_claim_pause(); END"
        )

    def _pause(self) -> None:
        if self.armed.is_set() and not self.entered.is_set():
            self.entered.set()
            self.release.wait(TIMEOUT)


class Bridge:
    """The dispatcher, its link and its store, in the running event loop."""

    def __init__(self, kitchen: Kitchen, broker: PrivateBroker) -> None:
        self.kitchen = kitchen
        self.broker = broker
        settings = kitchen.settings.replace(
            kitchen_ack_timeout_seconds=ACK_TIMEOUT, timing={"kitchen_rescan_seconds": RESCAN}
        )
        self.store = Store(settings)
        self.link = MqttLink(MqttUrl.parse(broker.url), client_id=f"edgehub-bridge-{kitchen.store}")
        self.dispatcher = Dispatcher(settings, self.store, self.link)
        self.pause = ClaimPause()

    async def until(self, predicate: Callable[[], Any], what: str) -> None:
        await wait_until_async(predicate, TIMEOUT, what)

    async def bounce_broker_while_claiming(self, claim: Callable[[], Awaitable[None]]) -> None:
        """Run ``claim``, which makes the dispatcher claim a job; while the claim is held in
        the writer, the broker is killed and restarted and the link reconnects."""
        before = self.link.connects
        self.pause.armed.set()
        await claim()
        assert await asyncio.to_thread(self.pause.entered.wait, TIMEOUT), "no claim was made"
        if self.link.connected:
            self.broker.kill()
            await self.until(lambda: not self.link.connected, "the link to drop")
        self.broker.start()
        await self.until(
            lambda: self.link.connected and self.link.connects > before, "the link to reconnect"
        )


@asynccontextmanager
async def running(kitchen: Kitchen, broker: PrivateBroker) -> AsyncIterator[Bridge]:
    bridge = Bridge(kitchen, broker)
    bridge.store.start()
    await bridge.store.write(bridge.pause.install)
    bridge.link.start()
    task = asyncio.create_task(bridge.dispatcher.run())
    try:
        await bridge.until(lambda: bridge.link.connected, "the first connection")
        yield bridge
    finally:
        bridge.pause.release.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bridge.link.stop()
        bridge.store.close()


def _copies(observer: Mqtt, job_id: str, settle: float = 0.5) -> list[dict[str, Any]]:
    """Every copy of ``job_id`` the observer got, once the job is at the broker and all is quiet."""
    copies = [observer.next("/jobs")[1]]
    time.sleep(settle)
    copies += [json.loads(payload) for _, payload in observer.drain()]
    return [c for c in copies if c["job_id"] == job_id]


def _state(kitchen: Kitchen, order_id: int) -> str | None:
    """The state of the order's one ticket; None while it is not committed."""
    found = kitchen.jobs(order_id)
    return str(found[0]["state"]) if found else None


def _job_id(kitchen: Kitchen, order_id: int) -> str:
    (job,) = kitchen.jobs(order_id)
    return str(job["job_id"])


def _grill_kitchen(tmp_path: Path, broker: PrivateBroker) -> tuple[Kitchen, str]:
    """A demo store with a grill printer on ``broker``, and the grill's jobs topic."""
    kitchen = Kitchen(demo_database(tmp_path / "edgehub.db"), broker.url)
    kitchen.add_device("grill-1", "grill")
    return kitchen, Topics(kitchen.store).jobs("grill")


def test_a_job_claimed_while_the_link_comes_back_goes_out_once_and_plain(
    tmp_path: Path, broker: PrivateBroker, mqtt_client: Callable[..., Mqtt]
) -> None:
    """A ticket paid during an outage reaches the kitchen once, without a reprint banner."""
    kitchen, topic = _grill_kitchen(tmp_path, broker)

    async def scenario() -> list[dict[str, Any]]:
        async with running(kitchen, broker) as bridge:
            broker.kill()
            await bridge.until(lambda: not bridge.link.connected, "the link to drop")
            orders: list[Order] = []

            async def pay() -> None:  # the tail claims the new ticket with the link down
                orders.append(await asyncio.to_thread(kitchen.paid_order, (GRILL, "1")))

            await bridge.bounce_broker_while_claiming(pay)
            observer = mqtt_client(broker.port).subscribe(topic)
            bridge.pause.release.set()
            (order,) = orders
            await asyncio.to_thread(wait_until, lambda: _state(kitchen, order.id) == "sent")
            return await asyncio.to_thread(_copies, observer, _job_id(kitchen, order.id))

    copies = asyncio.run(scenario())
    assert [(c["attempt"], c["reprint"]) for c in copies] == [(2, False)]


def test_a_retry_claimed_while_the_link_bounces_goes_out_once(
    tmp_path: Path, broker: PrivateBroker, mqtt_client: Callable[..., Mqtt]
) -> None:
    """A re-send in flight across a broker restart is not sent a second time by the reconnection."""
    kitchen, topic = _grill_kitchen(tmp_path, broker)

    async def scenario() -> list[dict[str, Any]]:
        async with running(kitchen, broker) as bridge:
            order = await asyncio.to_thread(kitchen.paid_order, (GRILL, "1"))
            await bridge.until(lambda: _state(kitchen, order.id) == "sent", "the PUBACK")
            job_id = _job_id(kitchen, order.id)

            async def due_now() -> None:  # as if the ack timeout had passed: the retry claims it
                await asyncio.to_thread(
                    kitchen.write,
                    lambda db: db.execute(
                        "UPDATE kitchen_jobs SET next_attempt_at = ? WHERE job_id = ?",
                        (time.time(), job_id),
                    ),
                )

            await bridge.bounce_broker_while_claiming(due_now)
            observer = mqtt_client(broker.port).subscribe(topic)
            bridge.pause.release.set()
            return await asyncio.to_thread(_copies, observer, job_id)

    copies = asyncio.run(scenario())
    assert [(c["attempt"], c["reprint"]) for c in copies] == [(3, True)]


def test_a_publish_for_a_connection_that_is_gone_is_refused(
    mqtt_client: Callable[..., Mqtt],
) -> None:
    """A publish tagged with an earlier connection is refused; one for the current one goes out."""
    topic = f"edgehub/t{time.time_ns()}/kitchen/grill/jobs"
    observer = mqtt_client().subscribe(topic)

    async def scenario() -> None:
        link = MqttLink(MqttUrl.parse("mqtt://127.0.0.1:1883"), client_id=f"test-{time.time_ns()}")
        connected = asyncio.Event()
        link.on_connect(connected.set)
        link.start()
        try:
            await asyncio.wait_for(connected.wait(), TIMEOUT)
            try:
                await link.publish(topic, b'{"n": "stale"}', connection=link.connects - 1)
            except NotConnected:
                pass
            else:
                raise AssertionError("a publish for an earlier connection went out")
            await link.publish(topic, b'{"n": "current"}', connection=link.connects)
        finally:
            await link.stop()

    asyncio.run(scenario())
    assert observer.next("/jobs", timeout=TIMEOUT) == (topic, {"n": "current"})
    assert [payload for _, payload in observer.drain()] == []


def test_a_message_unconfirmed_when_the_connection_went_is_not_sent_again_by_paho(
    broker: PrivateBroker, mqtt_client: Callable[..., Mqtt]
) -> None:
    """Only the job table re-sends: paho's own re-send would be a second, bannerless copy."""
    topic = f"edgehub/t{time.time_ns()}/kitchen/grill/jobs"

    async def scenario() -> list[tuple[str, bytes]]:
        link = MqttLink(MqttUrl.parse(broker.url), client_id=f"test-{time.time_ns()}")
        connected = asyncio.Event()
        link.on_connect(connected.set)
        link.start()
        try:
            await asyncio.wait_for(connected.wait(), TIMEOUT)
            connected.clear()
            broker.freeze()
            publish = asyncio.create_task(link.publish(topic, b'{"n": 1}'))
            await asyncio.sleep(0.2)  # handed to the socket; no PUBACK can come
            broker.kill()
            broker.start()
            observer = mqtt_client(broker.port).subscribe(topic)
            await asyncio.wait_for(connected.wait(), TIMEOUT)
            try:
                await asyncio.wait_for(publish, TIMEOUT)
            except ConnectionLost:
                pass
            else:
                raise AssertionError("the publish was confirmed on the new connection")
            await asyncio.sleep(0.5)
            return observer.drain()
        finally:
            await link.stop()

    assert asyncio.run(scenario()) == []
