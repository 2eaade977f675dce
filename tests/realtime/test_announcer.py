"""Presence announcements reach the log in one transaction per gather, however steady the stream.

Counted, not timed: the store's own commit counter against the gathers that
could have happened in the time the stream lasted.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3

from hub.db.store import Store
from hub.web.realtime import announcer
from hub.web.realtime.announcer import Announcer


def statuses(store: Store) -> list[int]:
    with sqlite3.connect(store.settings.store.db) as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE event = 'device.status' ORDER BY seq"
        ).fetchall()
    return [json.loads(row[0])["n"] for row in rows]


def test_a_steady_stream_is_written_once_per_gather_and_in_order(store: Store) -> None:
    """Connects arriving every millisecond, for longer than a commit takes: before, each
    commit found a few new announcements and wrote them at once, a transaction per two
    or three connections; now the ones that came during a write wait for the next gather."""

    async def scenario() -> tuple[int, float]:
        teller = Announcer(store)
        task = asyncio.create_task(teller.run())
        loop = asyncio.get_running_loop()
        before = store.commits
        started = loop.time()
        for n in range(600):
            teller.announce({"n": n})
            await asyncio.sleep(0.001)
        elapsed = loop.time() - started
        teller.stop()
        await task
        return store.commits - before, elapsed

    commits, elapsed = asyncio.run(scenario())
    assert statuses(store) == list(range(600))
    # A write follows each gather, and the stop writes what is left once more.
    assert 1 < commits <= elapsed / announcer.GATHER_SECONDS + 2, (commits, elapsed)


def test_more_than_a_batch_at_once_is_written_in_batches_at_the_stop(store: Store) -> None:
    """A hub stopping with a storm's announcements queued writes them all, in order."""

    async def scenario() -> int:
        teller = Announcer(store)
        task = asyncio.create_task(teller.run())
        before = store.commits
        for n in range(announcer.BATCH * 2 + 1):
            teller.announce({"n": n})
        teller.stop()
        await task
        return store.commits - before

    assert asyncio.run(scenario()) == 3
    assert statuses(store) == list(range(announcer.BATCH * 2 + 1))
