"""Redis pub/sub as a doorbell between workers: "the log has news, read it now".

It carries no events, only the writer's worker id on channel
``edgehub:{store}:events``; every worker then reads the events themselves
from SQLite. So a lost, late or duplicated ring costs latency, never data:
the tailer polls the log anyway. Redis being away (never configured, down,
restarting) degrades cross-worker latency to the poll interval and nothing
else; the listener reconnects with backoff and rings once when back, in case
it missed a ring while away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from hub.backoff import Backoff
from hub.logs import get_logger

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = get_logger("edgehub.realtime")

CONNECT_TIMEOUT = 2.0
COMMAND_TIMEOUT = 2.0
LISTEN_TIMEOUT = 5.0
MAX_BACKOFF = 10.0


def channel_for(store: str) -> str:
    return f"edgehub:{store}:events"


async def _close_quietly(connection: aioredis.Redis | aioredis.client.PubSub) -> None:
    """Close ``connection`` within COMMAND_TIMEOUT, ignoring any error: it is being dropped."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(COMMAND_TIMEOUT):
            await connection.aclose()


class RedisWakeup:
    """Rings the other workers after local writes; wakes our tailer on their rings."""

    def __init__(self, url: str, channel: str, worker_id: str, on_ring: Callable[[], None]) -> None:
        self._url = url
        self._channel = channel
        self._worker_id = worker_id
        self._on_ring = on_ring
        self._pending = asyncio.Event()
        self.up = False

    def ring(self) -> None:
        """Ask the publisher to tell the others; many calls before it runs make one ring."""
        self._pending.set()

    async def run(self) -> None:
        """Listen and publish until cancelled."""
        listener = asyncio.create_task(self._listen(), name="ws-redis-listen")
        publisher = asyncio.create_task(self._publish(), name="ws-redis-publish")
        try:
            await asyncio.gather(listener, publisher)
        finally:
            listener.cancel()
            publisher.cancel()
            await asyncio.gather(listener, publisher, return_exceptions=True)

    def _client(self) -> aioredis.Redis:
        import redis.asyncio as aioredis  # here: a hub without Redis never loads redis-py

        return aioredis.Redis.from_url(
            self._url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=COMMAND_TIMEOUT,
            health_check_interval=LISTEN_TIMEOUT,
        )

    async def _listen(self) -> None:
        backoff = Backoff(0.5, MAX_BACKOFF, jitter=False)  # our own Redis: no herd to spread
        while True:
            client = self._client()
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if not self.up:
                    log.info("ws_redis_up", channel=self._channel)
                self.up = True
                backoff.reset()
                self._on_ring()
                while True:
                    message = await pubsub.get_message(timeout=LISTEN_TIMEOUT)
                    if message is None:
                        continue
                    sender = message.get("data")
                    if isinstance(sender, bytes) and sender.decode(errors="replace") != (
                        self._worker_id
                    ):
                        self._on_ring()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.up:
                    log.warning("ws_redis_down", error=type(exc).__name__)
                self.up = False
            finally:
                await _close_quietly(pubsub)
                await _close_quietly(client)
            await asyncio.sleep(backoff.delay())

    async def _publish(self) -> None:
        client: aioredis.Redis | None = None
        try:
            while True:
                await self._pending.wait()
                self._pending.clear()
                if not self.up:
                    continue  # the others poll; no use waiting on a connect timeout
                try:
                    if client is None:
                        client = self._client()
                    await client.publish(self._channel, self._worker_id)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.debug("ws_redis_publish_failed", error=type(exc).__name__)
                    if client is not None:
                        await _close_quietly(client)
                    client = None
        finally:
            if client is not None:
                await _close_quietly(client)
