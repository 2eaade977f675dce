"""One kitchen bridge per store across databases and boxes: a retained claim on the broker.

The lock beside the database (hub/instance.py) keeps a second bridge on the
same database out. A second database with the same store code, or another PC,
shares no file with the first, but it does share the broker, and both would
log in with the client id ``edgehub-bridge-{store}`` and throw each other off
every second. So a running bridge keeps a retained claim on
``edgehub/{store}/bridge/claim`` naming itself (published on each connection,
cleared by its last will if the connection dies and by itself on a clean
stop), and a starting bridge reads it first, under a client id of its own
(so as not to throw the running one off), and refuses when it is there.

A claim from this host and this database can only be a dead process's (the
lock says no other live bridge has it): the broker has not yet noticed the
old connection is gone (a power cut; it notices after 1.5 keepalives). It is
not held against us, and our own connection takes the old one over.

Without the ``bridge/claim`` line in the broker's ACL the claim is neither
kept nor read: the check finds nothing, and a takeover is still logged by
MqttLink as ``mqtt_client_id_taken_over``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from firmware_bridge.mqtt import MqttError, MqttLink, MqttUrl, Will
from firmware_bridge.topics import Topics
from hub.clock import now_iso
from hub.logs import log_event
from hub.settings import Settings
from hub.version import VERSION

log = logging.getLogger("edgehub.bridge")

CONNECT_WITHIN_SECONDS = 3.0
"""How long the start-up check waits for the broker before it gives up and the bridge starts."""
RETAINED_GRACE_SECONDS = 0.3
"""After the SUBACK, how long a retained claim may take (Mosquitto sends it right after)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """Who runs the kitchen bridge of a store: what a second one needs to say it."""

    instance: str
    pid: int
    host: str
    db: str
    version: str
    since: str

    @classmethod
    def mine(cls, settings: Settings) -> Claim:
        return cls(
            instance=uuid.uuid4().hex,
            pid=os.getpid(),
            host=socket.gethostname(),
            db=str(settings.db),
            version=VERSION,
            since=now_iso(),
        )

    def payload(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def parse(cls, payload: bytes) -> Claim | None:
        """The claim in a retained message; None for an empty (cleared) or unreadable one."""
        try:
            data: Any = json.loads(payload)
            return cls(
                instance=str(data["instance"]),
                pid=int(data["pid"]),
                host=str(data["host"]),
                db=str(data["db"]),
                version=str(data["version"]),
                since=str(data["since"]),
            )
        except (ValueError, TypeError, KeyError):
            return None

    def describe(self) -> str:
        return (
            f"pid {self.pid} on {self.host} (database {self.db}), "
            f"EdgeHub {self.version}, running since {self.since}"
        )

    def is_stale_of(self, settings: Settings) -> bool:
        """Ours from a dead process: same host and database, whose lock we now hold."""
        return self.host == socket.gethostname() and self.db == str(settings.db)


class ClaimedElsewhere(Exception):
    """Another bridge holds the store on the broker; ``claim`` says which."""

    def __init__(self, store: str, claim: Claim) -> None:
        super().__init__(f"the kitchen bridge of store {store!r} already runs: {claim.describe()}")
        self.store = store
        self.claim = claim


def will(topics: Topics) -> Will:
    """The last will that clears the claim when the bridge's connection dies."""
    return Will(topics.claim, b"", retain=True)


async def check(settings: Settings, url: MqttUrl) -> None:
    """Raise ClaimedElsewhere when another bridge claims the store on the broker.

    Connects as ``edgehub-bridge-{store}-probe-{pid}``, waits for the SUBACK
    of the claim topic and a short grace for its retained message, and leaves.
    A broker that does not answer within CONNECT_WITHIN_SECONDS is logged and
    the bridge starts as before: the broker may be down, and the kitchen must
    not wait for it to start.
    """
    topics = Topics(settings.store)
    found: list[Claim | None] = []
    probe = MqttLink(
        url,
        client_id=f"edgehub-bridge-{settings.store}-probe-{os.getpid()}",
        keepalive=settings.mqtt_keepalive_seconds,
        ca_file=settings.mqtt_ca_file,
    )
    probe.subscribe(topics.claim, lambda _topic, payload: found.append(Claim.parse(payload)))
    probe.start()
    try:
        try:
            await asyncio.wait_for(probe.subscribed.wait(), CONNECT_WITHIN_SECONDS)
        except TimeoutError:
            log_event(
                log,
                "bridge_claim_unchecked",
                logging.WARNING,
                broker=str(url),
                reason=f"no answer from the broker within {CONNECT_WITHIN_SECONDS:g}s",
            )
            return
        await asyncio.sleep(RETAINED_GRACE_SECONDS)
    finally:
        await probe.stop()
    claim = found[-1] if found else None
    if claim is None:
        return
    if claim.is_stale_of(settings):
        log_event(log, "bridge_claim_stale", pid=claim.pid, since=claim.since)
        return
    raise ClaimedElsewhere(settings.store, claim)


class ClaimKeeper:
    """Publishes the bridge's claim on each connection; clears it on a clean stop."""

    def __init__(self, settings: Settings, link: MqttLink) -> None:
        self.topics = Topics(settings.store)
        self.claim = Claim.mine(settings)
        self.link = link
        self._tasks: set[asyncio.Task[None]] = set()
        link.on_connect(self._connected)

    def _connected(self) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(self.claim.payload()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, payload: bytes) -> None:
        try:
            await self.link.publish(self.topics.claim, payload, retain=True)
        except MqttError as exc:  # the next connection publishes it again
            log_event(log, "bridge_claim_unpublished", logging.WARNING, error=str(exc))

    async def clear(self) -> None:
        """Empty the retained claim (before ``link.stop()``, which sends no will)."""
        for task in list(self._tasks):
            task.cancel()
        if self.link.connected:
            await self._publish(b"")
