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

A printer adapter (``edgehub printer``) is kept to one per device the same
way, but its claim rides in its device's retained status (``check_adapter``).

Without the ``bridge/claim`` line in the broker's ACL (or, for an adapter,
the pattern that lets a device read its own status) the claim is neither
kept nor read: the check finds nothing, and a takeover is still logged by
MqttLink as ``mqtt_client_id_taken_over``.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from firmware_bridge.mqtt import MqttError, MqttLink, Will
from hub.broker_url import MqttUrl
from hub.clock import now_iso
from hub.logs import get_logger
from hub.mqtt_topics import Topics
from hub.settings import Settings
from hub.version import VERSION

log = get_logger("edgehub.bridge")


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
            db=str(settings.store.db),
            version=VERSION,
            since=now_iso(),
        )

    def payload(self) -> bytes:
        return json.dumps(self.fields(), separators=(",", ":")).encode()

    def fields(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, payload: bytes) -> Claim | None:
        """The claim in a retained message; None for an empty (cleared) or unreadable one."""
        try:
            return cls.from_fields(json.loads(payload))
        except (ValueError, RecursionError):
            return None

    @classmethod
    def from_status(cls, payload: bytes) -> Claim | None:
        """The adapter's claim in an online device status; None when it claims nothing."""
        try:
            data: Any = json.loads(payload)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or data.get("online") is not True:
            return None
        return cls.from_fields(data.get("adapter"))

    @classmethod
    def from_fields(cls, data: Any) -> Claim | None:
        try:
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
        return self.host == socket.gethostname() and self.db == str(settings.store.db)


class ClaimedElsewhere(Exception):
    """Another process holds the store (or the device) on the broker; ``claim`` says which."""

    def __init__(self, what: str, claim: Claim, topic: str) -> None:
        super().__init__(f"{what} already runs: {claim.describe()}")
        self.what = what
        self.claim = claim
        self.topic = topic


def will(topics: Topics) -> Will:
    """The last will that clears the claim when the bridge's connection dies."""
    return Will(topics.claim, b"", retain=True)


async def check(settings: Settings, url: MqttUrl) -> None:
    """Raise ClaimedElsewhere when another bridge claims the store on the broker."""
    await _probe(
        settings,
        url,
        name="bridge",
        what=f"the kitchen bridge of store {settings.store.code!r}",
        client_id=f"edgehub-bridge-{settings.store.code}-probe-{os.getpid()}",
        topic=Topics(settings.store.code).claim,
        read=Claim.parse,
    )


async def check_adapter(settings: Settings, url: MqttUrl, device: str) -> None:
    """Raise ClaimedElsewhere when another printer adapter runs ``device``.

    An adapter's claim is in its device's retained status (``adapter``), whose
    last will and goodbye say ``online: false``: MQTT gives a connection one
    will, and the status already has it. An online status with no ``adapter``
    (a device's own firmware, an older adapter) claims nothing.
    """
    await _probe(
        settings,
        url,
        name="printer",
        what=f"the printer adapter of {device!r}",
        client_id=f"edgehub-printer-{settings.store.code}-{device}-probe-{os.getpid()}",
        topic=Topics(settings.store.code).status(device),
        read=Claim.from_status,
    )


async def _probe(
    settings: Settings,
    url: MqttUrl,
    *,
    name: str,
    what: str,
    client_id: str,
    topic: str,
    read: Callable[[bytes], Claim | None],
) -> None:
    """Read the retained claim on ``topic`` and raise ClaimedElsewhere if another holds it.

    Connects as ``client_id`` (not the daemon's own, which would throw the
    running one off), waits for the SUBACK and ``kitchen.claim_wait_seconds``
    for the retained message (Mosquitto sends it right after), and leaves. A
    broker that does not answer within ``timing.claim_connect_seconds`` is
    logged and the daemon starts as before: the broker may be down, and the
    kitchen must not wait for it to start.
    """
    found: list[Claim | None] = []
    connect_within = settings.timing.claim_connect_seconds
    probe = MqttLink(
        url,
        client_id=client_id,
        keepalive=settings.mqtt.keepalive_seconds,
        ca_file=settings.mqtt.ca_file,
    )
    probe.subscribe(topic, lambda _topic, payload: found.append(read(payload)))
    probe.start()
    try:
        try:
            async with asyncio.timeout(connect_within):  # keeps a SIGTERM (see dispatcher)
                await probe.subscribed.wait()
        except TimeoutError:
            log.warning(
                f"{name}_claim_unchecked",
                broker=str(url),
                reason=f"no answer from the broker within {connect_within:g}s",
            )
            return
        await asyncio.sleep(settings.kitchen.claim_wait_seconds)
    finally:
        await probe.stop()
    claim = found[-1] if found else None
    if claim is None:
        return
    if claim.is_stale_of(settings):
        log.info(f"{name}_claim_stale", pid=claim.pid, since=claim.since)
        return
    raise ClaimedElsewhere(what, claim, topic)


class ClaimKeeper:
    """Publishes the bridge's claim on each connection; clears it on a clean stop."""

    def __init__(self, settings: Settings, link: MqttLink) -> None:
        self.topics = Topics(settings.store.code)
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
            log.warning("bridge_claim_unpublished", error=str(exc))

    async def clear(self) -> None:
        """Empty the retained claim (before ``link.stop()``, which sends no will)."""
        for task in list(self._tasks):
            task.cancel()
        if self.link.connected:
            await self._publish(b"")
