"""``edgehub bridge``: the kitchen side of the hub, one process per store.

First makes sure no other bridge claims the store on the broker
(firmware_bridge/claim.py), then opens the shared SQLite file (migrating it
if need be), connects to the broker as ``edgehub-bridge`` (the login the ACL
grants the kitchen topics to), and runs the dispatcher until told to stop.
The broker may be down at start or go away later: paho keeps reconnecting,
jobs wait in SQLite meanwhile, and every open job not already sent on the new
connection is sent again once it is up.
"""

from __future__ import annotations

import asyncio
import contextlib

from firmware_bridge import claim
from firmware_bridge.dispatcher import Dispatcher
from firmware_bridge.mqtt import MqttLink
from hub.broker_url import MqttUrl
from hub.daemon import supervise
from hub.db import occupancy
from hub.db.store import Store
from hub.logs import get_logger
from hub.mqtt_topics import Topics
from hub.settings import Settings

log = get_logger("edgehub.bridge")


async def serve(settings: Settings, started: asyncio.Event | None = None) -> None:
    """Run the bridge until cancelled; the caller owns signals and systemd."""
    url = MqttUrl.parse(settings.mqtt.url)
    await claim.check(settings, url)  # before anything is opened: a refusal changes nothing
    async with occupancy.held_open(settings):  # restore refuses while the bridge runs
        await _serve(settings, url, started)


async def _serve(settings: Settings, url: MqttUrl, started: asyncio.Event | None) -> None:
    store = Store(settings)
    store.start()
    try:
        link = MqttLink(
            url,
            client_id=f"edgehub-bridge-{settings.store.code}",
            keepalive=settings.mqtt.keepalive_seconds,
            ca_file=settings.mqtt.ca_file,
            will=claim.will(Topics(settings.store.code)),
        )
        keeper = claim.ClaimKeeper(settings, link)
        dispatcher = Dispatcher(settings, store, link)
        link.start()
        log.info(
            "bridge_started", store=settings.store.code, broker=str(url), db=str(settings.store.db)
        )
        if started is not None:
            started.set()
        try:
            await dispatcher.run()
        finally:
            with contextlib.suppress(Exception):
                await keeper.clear()
            with contextlib.suppress(Exception):
                await link.stop()
    finally:
        store.close()
        log.info("bridge_stopped", store=settings.store.code)


def run(settings: Settings) -> None:
    """The ``edgehub bridge`` process: uvloop, signals, READY/WATCHDOG/STOPPING."""
    import uvloop

    status = f"kitchen bridge for store {settings.store.code}"
    uvloop.run(supervise(lambda life: serve(settings, life.started), status=status))
