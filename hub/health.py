"""What ``/health`` reports: the database, and whether Redis, the broker and Odoo sync are there.

Only the database decides 200 vs 503: without it nothing works. Redis and the
broker being away make the hub ``degraded``, never dead. Probes of other
services are cached for a few seconds, so a health check storm cannot become
a connection storm.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from hub.settings import Settings

PROBE_TTL_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 0.5


def db_check(db: sqlite_utils.Database) -> str:
    db.execute("SELECT 1 FROM events LIMIT 1").fetchall()
    return "ok"


class Probes:
    """TCP reachability of the services the hub can live without, cached briefly."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: dict[str, tuple[float, str]] = {}

    async def redis(self) -> str:
        if not self.settings.redis_url:
            return "off"
        return await self._probe("redis", self.settings.redis_url, 6379)

    async def mqtt(self) -> str:
        if not self.settings.mqtt_url:
            return "off"
        return await self._probe("mqtt", self.settings.mqtt_url, 1883)

    def sync(self) -> str:
        return "idle" if not self.settings.odoo_url else "ok"

    async def _probe(self, name: str, url: str, default_port: int) -> str:
        cached = self._cache.get(name)
        now = time.monotonic()
        if cached and now - cached[0] < PROBE_TTL_SECONDS:
            return cached[1]
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or default_port
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), PROBE_TIMEOUT_SECONDS
            )
            writer.close()
            status = "ok"
        except (OSError, TimeoutError):
            status = "down"
        self._cache[name] = (now, status)
        return status

    async def report(self, db_status: str, sync: str | None = None) -> dict[str, Any]:
        """``sync``: the agent's own account (``cloud_sync.status.health``) when it was read."""
        checks = {
            "db": db_status,
            "redis": await self.redis(),
            "mqtt": await self.mqtt(),
            "sync": sync or self.sync(),
        }
        degraded = any(v in ("down", "lagging", "error") for v in checks.values())
        return {"status": "degraded" if degraded else "ok", "checks": checks}
