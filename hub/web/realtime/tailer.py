"""The one task per process that reads the event log and hands each new event out.

It sees this process's writes and every other process's alike, because it
reads the shared SQLite file, not a message bus. It sleeps until woken (a
local write through ``Store.on_write``, or a Redis wake-up from another
worker) or until the poll interval passes, whichever comes first; so without
Redis, events from other processes arrive within one poll interval.

Rows become visible in ``seq`` order (writers hold BEGIN IMMEDIATE until
COMMIT), so reading ``seq > delivered_to`` never skips a late commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hub.db.store import Store
from hub.events import Event
from hub.logs import get_logger
from hub.web.realtime import records
from hub.web.realtime.fanout import Fanout

log = get_logger("edgehub.realtime")

BATCH = 500
SMALL = 32  # rows read on the event loop itself (Store.read_small)
SLICE = 64  # events handed to the fan-out at once: a room's frames of a slice go out in one write
# Longest run of deliveries between two yields to the event loop, so a burst
# of events to thousands of clients cannot starve HTTP requests.
MAX_SLICE_SECONDS = 0.02


class Tailer:
    """Delivers every new event of the log to ``fanout``, then to each observer."""

    def __init__(
        self,
        store: Store,
        fanout: Fanout,
        poll_interval: float,
        observers: list[Callable[[Event], None]],
    ) -> None:
        self._store = store
        self._fanout = fanout
        self._interval = poll_interval
        self._observers = observers
        self._wake = asyncio.Event()
        self._woken_at = 0  # perf_counter_ns of the first wake since the last read
        # Where the time went in the last read that reached a client, in µs:
        # woken (after a commit) to read, the read, frames built, all written.
        self.last_timing: dict[str, float] = {}

    def wake(self) -> None:
        """Read the log now rather than at the next poll."""
        if not self._woken_at:
            self._woken_at = time.perf_counter_ns()
        self._wake.set()

    async def run(self) -> None:
        """Tail until cancelled; a failed read is logged and retried, never fatal."""
        while True:
            try:
                await self._sleep()
                await self._catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._store.damage is None:  # a damaged file was logged once, by the store
                    log.exception("ws_tailer_failed")
                await asyncio.sleep(min(1.0, self._interval * 10))

    async def _sleep(self) -> None:
        if not self._wake.is_set():
            try:
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            except TimeoutError:
                pass
        # Cleared before reading: a write committed while we read sets it
        # again, and the next round picks that write up at once.
        self._wake.clear()

    async def _catch_up(self) -> None:
        loop = asyncio.get_running_loop()
        limit = SMALL
        while True:
            # What one commit added is a few rows: read on the loop (``read_small``).
            # A full small batch means a backlog (a sync pull, a long gap): the
            # rest goes in big batches through a reader thread.
            after = self._fanout.delivered_to
            woken, self._woken_at = self._woken_at, 0
            read_at = time.perf_counter_ns()
            if limit == SMALL:
                batch = await self._store.read_small(records.tail, after, SMALL)
            else:
                batch = await self._store.read(records.tail, after, BATCH)
            read_done = time.perf_counter_ns()
            delivered = self._fanout.last_delivery
            started = loop.time()
            for i in range(0, len(batch), SLICE):
                part = batch[i : i + SLICE]
                self._fanout.deliver(part)
                for record in part:
                    for observe in self._observers:
                        observe(record)
                if loop.time() - started > MAX_SLICE_SECONDS:
                    await asyncio.sleep(0)
                    started = loop.time()
            if self._fanout.last_delivery != delivered:
                begun, first_write, end = self._fanout.last_delivery
                self.last_timing = {
                    "woken_to_read_us": (read_at - woken) / 1e3 if woken else 0.0,
                    "read_us": (read_done - read_at) / 1e3,
                    "build_us": (first_write - begun) / 1e3,
                    "write_us": (end - first_write) / 1e3,
                    "events": len(batch),
                }
            if len(batch) < limit:
                if batch:
                    log.debug("ws_tailed", to=batch[-1].seq)
                return
            limit = BATCH
