"""Closing each socket when its token's ``exp`` passes: one timer per quarter second.

A token is checked at connect; without this, a socket would outlive its
token for as long as the till stays on. Sessions are kept in buckets by the
quarter second at which to look at them again, each bucket with one loop
timer: no task and no work until a bucket is due, O(1) to add and to forget
a session (``Session._finish`` forgets it, so a closed session is not kept
alive until its token's expiry). A timer per session did the same with a
timer handle, a context copy and an argument tuple per idle connection
(~0.6 KiB each at 10,000 clients). The alternatives cost more or see less:
the reader wakes only for client messages (uvicorn answers the protocol
pings itself), so an idle kitchen screen would never be checked; a sweep
over every session wakes for sockets with hours to go.

A session is looked at again at most ``RECHECK_SECONDS`` ahead: the timers
run on the monotonic clock and ``exp`` is wall time, so a wall clock set
forward (NTP on a box without a battery clock) must not leave a socket open
past its ``exp`` by the size of the jump; one looked at before its ``exp``
(that step, or a clock set back) goes back into a bucket.

Buckets fire from the loop, never inside a session's reader, so its
``expire`` always finds the reader suspended at an ``await``.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Protocol

STEP_SECONDS = 0.25
RECHECK_SECONDS = 60.0


class Expiring(Protocol):
    """A session as the buckets see it: where it is filed, and what to do at ``exp``."""

    expiry_slot: int | None

    def expire(self) -> None: ...


class Expiries:
    """Every signed-in session of the process with a token that expires, by due quarter second."""

    def __init__(self) -> None:
        self._buckets: dict[int, dict[Expiring, float]] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}

    def watch(self, session: Expiring, expires_at: float) -> None:
        """Call ``session.expire()`` once the wall clock reaches ``expires_at``."""
        loop = asyncio.get_running_loop()
        delay = min(max(0.0, expires_at - time.time()), RECHECK_SECONDS)
        slot = math.ceil((loop.time() + delay) / STEP_SECONDS)
        bucket = self._buckets.get(slot)
        if bucket is None:
            bucket = self._buckets[slot] = {}
            self._timers[slot] = loop.call_at(slot * STEP_SECONDS, self._due, slot)
        bucket[session] = expires_at
        session.expiry_slot = slot

    def forget(self, session: Expiring) -> None:
        slot, session.expiry_slot = session.expiry_slot, None
        if slot is None:
            return
        bucket = self._buckets.get(slot)
        if bucket is None:
            return
        bucket.pop(session, None)
        if not bucket:
            del self._buckets[slot]
            self._timers.pop(slot).cancel()

    def __len__(self) -> int:
        return sum(len(b) for b in self._buckets.values())

    def _due(self, slot: int) -> None:
        self._timers.pop(slot, None)
        bucket = self._buckets.pop(slot, {})
        now = time.time()
        for session, expires_at in bucket.items():
            session.expiry_slot = None
            if now < expires_at:
                self.watch(session, expires_at)
            else:
                session.expire()
