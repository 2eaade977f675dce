"""What ``/health`` reports: the database, and whether Redis, the broker and Odoo sync are there.

Only the database decides 200 vs 503: without it nothing works. Redis and the
broker being away make the hub ``degraded``, never dead. Probes of other
services are cached for a few seconds, so a health check storm cannot become
a connection storm. The Redis job (``hub.periodic.plan``) records a real PING
here. The sync is not probed here: the route reads it from the database
(``hub.sync_status.health``) and hands the reading in.

``checks`` is the contract of API.md; ``detail`` says, per dependency, what
was measured and when, for a person looking at a degraded hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from hub import events
from hub.broker_url import broker
from hub.clock import SYSTEM_CLOCK, Clock, now_iso
from hub.settings import Settings
from hub.sync_status import Health as SyncHealth


def db_check(db: sqlite_utils.Database) -> str:
    events.probe(db)
    return "ok"


@dataclass(frozen=True, slots=True)
class Probe:
    """One measurement of one dependency."""

    status: str  # "ok" | "down" | "off"
    at: str
    latency_ms: float | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in {
                "status": self.status,
                "at": self.at,
                "latency_ms": self.latency_ms,
                "error": self.error,
            }.items()
            if v is not None
        }


class Probes:
    """TCP reachability of the services the hub can live without, cached briefly."""

    def __init__(
        self,
        settings: Settings,
        redis_state: Callable[[], tuple[str, str | None]] | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._cache: dict[str, tuple[float, Probe]] = {}
        # The cache's own view (off, ok, down; and why) beats a TCP probe: it is what requests see.
        self.redis_state = redis_state

    def record(self, name: str, probe: Probe) -> None:
        """Keep a measurement made elsewhere (the Redis job's PING) as the latest."""
        self._cache[name] = (self.clock.monotonic(), probe)

    async def redis_probe(self) -> Probe:
        if self.redis_state is not None:
            state, error = self.redis_state()
            return Probe(state, now_iso(), error=error)
        if not self.settings.redis.url:
            return Probe("off", now_iso())
        parts = urlsplit(self.settings.redis.url)
        return await self._probe("redis", parts.hostname or "127.0.0.1", parts.port or 6379)

    async def mqtt_probe(self) -> Probe:
        """The broker as the kitchen reaches it: for ``mqtts``, a TLS handshake that
        verifies its certificate the way the bridge does (``down`` when it does not)."""
        if not self.settings.mqtt.url:
            return Probe("off", now_iso())
        try:
            url, context = broker(self.settings.mqtt.url, self.settings.mqtt.ca_file)
        except ValueError as exc:  # a bad URL, or BadCaFile: the kitchen cannot connect
            return Probe("down", now_iso(), error=type(exc).__name__)
        return await self._probe("mqtt", url.host, url.port, context)

    async def _probe(
        self, name: str, host: str, port: int, context: ssl.SSLContext | None = None
    ) -> Probe:
        cached = self._cache.get(name)
        now = self.clock.monotonic()
        timing = self.settings.timing
        if cached and now - cached[0] < timing.health_probe_ttl_seconds:
            return cached[1]
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(timing.health_probe_timeout_seconds):
                _, writer = await asyncio.open_connection(host, port, ssl=context)
            probe = Probe("ok", now_iso(), round((time.perf_counter() - t0) * 1000, 3))
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):  # the answer is in already
                async with asyncio.timeout(timing.health_probe_timeout_seconds):
                    await writer.wait_closed()
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
            probe = Probe("down", now_iso(), error=type(exc).__name__)
        self._cache[name] = (now, probe)
        return probe

    async def report(
        self,
        db_status: str,
        db_latency_ms: float | None = None,
        sync: SyncHealth | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """``sync``: the reading of ``hub.sync_status.health``; ``None`` when the
        database could not be read, and the sync is then ``unknown``."""
        redis, mqtt = await self.redis_probe(), await self.mqtt_probe()
        sync_detail = sync.as_dict() if sync is not None else {"status": "unknown"}
        checks = {
            "db": db_status,
            "redis": redis.status,
            "mqtt": mqtt.status,
            "sync": sync_detail["status"],
        }
        degraded = any(v in ("down", "lagging", "error") for v in checks.values())
        detail: dict[str, Any] = {
            "db": {"status": db_status, "latency_ms": db_latency_ms},
            "redis": redis.as_dict(),
            "mqtt": mqtt.as_dict(),
            "sync": sync_detail,
            **extra,
        }
        return {"status": "degraded" if degraded else "ok", "checks": checks, "detail": detail}
