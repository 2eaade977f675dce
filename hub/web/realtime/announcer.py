"""Writes ``device.status`` events to the log, in batches, off the connection's path.

A connect must not wait for an fsync, and a storm of reconnects (every till
after a hub restart) must not become one transaction per till: announcements
queue here and one task writes whatever has gathered over ``GATHER_SECONDS``
in one transaction. Order is kept, so a quick connect-then-disconnect lands
as online, offline.

The events go to room ``devices`` only, not ``store``: each one reaches every
member of its room, so if every ``store`` subscriber heard every device, a
storm of N managers' screens (or a hub restart with N such connections)
would be N² frames however they were batched. Those who watch presence (the
dashboard) join ``devices``; tills and screens that only want the store's
business events join ``store`` and pay nothing per other device.
"""

from __future__ import annotations

import asyncio
from typing import Any

import sqlite_utils

from hub import events
from hub.db.store import Store
from hub.logs import get_logger

log = get_logger("edgehub.realtime")

BATCH = 500
ATTEMPTS = 3
# How long announcements gather before a write: a reconnect storm of every till
# becomes a few transactions, and every ``devices`` subscriber gets their frames
# in a few writes rather than one per batch of one or two.
GATHER_SECONDS = 0.05
ROOMS = ("devices",)


def _append_all(db: sqlite_utils.Database, batch: list[dict[str, Any]]) -> None:
    events.append_many(db, "device.status", batch, ROOMS)


class Announcer:
    """Queue of device.status payloads and the task that writes them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._queue: list[dict[str, Any]] = []
        self._ready = asyncio.Event()
        self._closed = False

    def announce(self, data: dict[str, Any]) -> None:
        if self._closed:
            return  # after shutdown's final flush: the process is going away
        self._queue.append(data)
        self._ready.set()

    def stop(self) -> None:
        """Ask ``run`` to write what is queued and return; later announcements are ignored."""
        self._closed = True
        self._ready.set()

    async def run(self) -> None:
        """Write batches as they gather, until ``stop()`` and the queue is empty.

        Stopped rather than cancelled: a write cancelled in flight may or may
        not have been committed, and writing it again would duplicate events.
        """
        while True:
            await self._ready.wait()
            if not self._closed:
                await asyncio.sleep(GATHER_SECONDS)
            self._ready.clear()
            await self._flush()
            if self._closed and not self._queue:
                return

    async def _flush(self) -> None:
        """Write what had gathered when called, ``BATCH`` at a time.

        What is announced while those writes run waits for the next gather.
        Writing it at once, as this did, meant that under a steady stream of
        connects each commit found a few new announcements and wrote them
        straight away: one transaction per two or three connections instead
        of one per ``GATHER_SECONDS``, each a wake-up of the writer thread
        that took the core from the event loop: a connect in steady traffic
        cost a fifth more CPU than in one burst (docs/benchmarks.md,
        WebSocket, "Presence written once per gather").
        """
        pending = len(self._queue)
        attempt = 0
        while pending:
            batch = self._queue[: min(BATCH, pending)]
            try:
                await self._store.write(_append_all, batch)
            except Exception:
                attempt += 1
                log.exception("ws_presence_write_failed")
                if attempt < ATTEMPTS:
                    await asyncio.sleep(0.5 * attempt)
                    continue
                log.error("ws_presence_dropped", count=len(batch))
            attempt = 0
            # New announcements were appended behind the batch, never before it.
            del self._queue[: len(batch)]
            pending -= len(batch)
