"""A bridge told to stop stops, whatever its loops were waking up for at that moment.

SIGTERM cancels the dispatcher. Python 3.11's ``asyncio.wait_for`` drops a
cancellation that comes in the loop turn after what it waits for is done: it
returns the result instead, and the loop that called it goes on as if no stop
had been asked for. The bridge then hung on SIGTERM until SIGKILL, about one
stop in ten right after a (re)connection, which wakes the retry loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from firmware_bridge.dispatcher import Dispatcher
from firmware_bridge.mqtt import MqttLink
from hub.broker_url import MqttUrl
from hub.db.store import Store
from tests.conftest import demo_database
from tests.support.kitchen import Kitchen, wait_until_async

STOPPED_WITHIN = 2.0


async def parked(dispatcher: Dispatcher) -> None:
    """Return once the retry loop waits on its wake-up.

    The event is set before the dispatcher starts; the loop clears it in the same turn
    in which it starts to wait, so seeing it cleared means the loop is parked there.
    """
    # Polled: no event says "cleared".
    await wait_until_async(
        lambda: not dispatcher._retry_wake.is_set(), STOPPED_WITHIN, "the retry loop parked"
    )


def test_the_dispatcher_stops_when_cancelled_as_its_retry_loop_wakes(tmp_path: Path) -> None:
    """A stop that meets a wake-up of the retry loop (a reconnection's) still ends the bridge."""
    kitchen = Kitchen(demo_database(tmp_path / "edgehub.db"))
    # No re-scan comes by itself while the test runs: the wake-up is the test's.
    settings = kitchen.settings.replace(timing={"kitchen_rescan_seconds": 60.0})

    async def scenario() -> list[int]:
        store = Store(settings)
        store.start()
        hung: list[int] = []
        try:
            # The cancellation comes 0, 1 or 2 loop turns after the wake-up.
            for turns in range(3):
                # Never started: the loops wait on SQLite and the clock, not on a broker.
                link = MqttLink(MqttUrl.parse(kitchen.settings.mqtt.url), client_id="test")
                dispatcher = Dispatcher(settings, store, link)
                dispatcher._retry_wake.set()
                task = asyncio.create_task(dispatcher.run())
                await parked(dispatcher)
                dispatcher._retry_wake.set()  # as _after_connect does on each connection
                for _ in range(turns):
                    await asyncio.sleep(0)
                task.cancel()
                done, _ = await asyncio.wait({task}, timeout=STOPPED_WITHIN)
                if task not in done:
                    hung.append(turns)
                    task.cancel()  # a second cancellation finds the loop waiting again
                    await asyncio.wait({task}, timeout=STOPPED_WITHIN)
        finally:
            store.close()
        return hung

    assert asyncio.run(scenario()) == []
