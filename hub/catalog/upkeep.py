"""What keeps the cache honest and warm while a hub runs: tasks the app's lifespan owns.

* **monitor** (every ``timing.cache_monitor_seconds``, 1 s): pings Redis;
  ``hub.cache`` falls back to its in-process LRU when Redis goes and returns
  to Redis, after dropping what it may hold stale, when it answers again.
* **tail** (every ``cache_tail_interval_seconds``, 0.25 s): reads the event log
  past its cursor and drops what each change touched: ``catalog.updated`` names
  products, barcodes, pages, categories, users; ``session.updated`` and
  ``order.created`` a session (its state, its order count); a payment or a
  refund the stock-tracked products whose quantity it moved. A write made in
  this process was already dropped by the writer right after its commit; the
  tail is how writes of *other* processes (the sync agent's catalogue pull,
  another worker) arrive, within one interval. Chosen over short TTLs for the
  in-process cache because it is exact, covers Redis too (a writer without a
  cache of its own cannot invalidate it), and costs one indexed range read of
  the log per interval; the event log is already the hub's one signal of change.
* **warmer** (right after start, in the background; then every
  ``job_cache_warm_seconds``, 10 min, inside the 15 min product TTL, as a hook
  of the periodic ``cache_warm`` job of ``hub.periodic``): the
  categories and up to
  ``cache_warm_products`` (50,000) products, the most sold in the last 14 days
  first, then the rest of the sellable catalogue. A store's whole catalogue
  fits (50,000 products are ~25 MB), and a till workload's long tail would
  otherwise be all misses: a product read once a day is never in a 15 min
  cache. Each round re-stores what it loads, so nothing expires between
  rounds; it also refreshes the trigram statistics search picks its probes by.
* **words** (every ``timing.catalog_words_seconds``, 5 s): reloads the
  vocabulary typo-tolerant search reads misspellings against
  (``hub.catalog.vocabulary``) when a change of listings, this process's or
  another's (through the tail), may have brought new words; at most once a
  round however fast a sync or an import writes.

Each task is cancelled and awaited on shutdown; an error in one round is logged
with its traceback and the loop goes on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from hub import events
from hub.cache import Cache
from hub.catalog import edits
from hub.catalog.edits import Touched
from hub.catalog.gateway import CatalogGateway
from hub.clock import iso
from hub.db.store import Store
from hub.logs import get_logger
from hub.settings import Settings

log = get_logger("edgehub.cache")

WATCHED = (
    "catalog.updated",
    "session.updated",
    "order.created",
    "payment.processed",
    "payment.refunded",
)
TAIL_BATCH = 1000
_FIELDS = (
    events.Field.of("$", "catalog.updated"),
    events.Field.of("$.id"),
    events.Field.of("$.session_id"),
    events.Field.of("$.order_id"),
)
EVERYTHING = Touched(all_products=True, listings=True, categories=True, everyone=True)
HOT_DAYS = 14


def touched_since(
    db: sqlite_utils.Database, since: int, done: frozenset[int] = frozenset()
) -> tuple[int, Touched, bool]:
    """What the events after ``since`` changed, the cursor to read from next, and
    whether more events wait past it (a batch is at most ``TAIL_BATCH`` events).
    Events whose seq is in ``done`` were handled by this process's writer."""
    head = events.head(db)
    oldest = events.oldest(db)
    if head > since and (oldest is None or oldest > since + 1):
        # The log was pruned past the cursor: what was lost is unknown, so all goes.
        return head, EVERYTHING, False
    rows = events.extract(db, since, _FIELDS, upto=head, names=WATCHED, limit=TAIL_BATCH)
    more = len(rows) == TAIL_BATCH
    cursor = rows[-1][0] if more else head
    touched = Touched()
    paid_orders: list[int] = []
    for seq, event, _ts, data, ident, session_id, order_id in rows:
        if seq in done:
            continue
        if event == "catalog.updated":
            touched |= Touched.from_event(json.loads(data))
        elif event == "session.updated" and ident is not None:
            touched |= Touched(sessions=frozenset({int(ident)}))
        elif event == "order.created" and session_id is not None:
            touched |= Touched(sessions=frozenset({int(session_id)}))
        elif order_id is not None:
            paid_orders.append(int(order_id))
    if paid_orders:
        marks = ",".join("?" * len(paid_orders))
        moved = db.execute(
            "SELECT DISTINCT p.id, p.barcode FROM order_lines l "
            "JOIN products p ON p.id = l.product_id "
            f"WHERE p.stock_tracked = 1 AND l.order_id IN ({marks})",
            paid_orders,
        ).fetchall()
        touched |= Touched(
            products=frozenset(r[0] for r in moved),
            barcodes=frozenset(r[1] for r in moved if r[1]),
        )
    return cursor, touched, more


def hot_product_ids(db: sqlite_utils.Database, count: int) -> list[int]:
    """The products most sold lately, topped up with the first sellable ones by id."""
    since = iso(datetime.now(UTC) - timedelta(days=HOT_DAYS))
    ids = [
        r[0]
        for r in db.execute(
            "SELECT l.product_id FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE o.created_at >= ? GROUP BY l.product_id ORDER BY COUNT(*) DESC LIMIT ?",
            (since, count),
        ).fetchall()
    ]
    if len(ids) < count:
        rows = db.execute(
            "SELECT id FROM products WHERE active = 1 AND sale_ok = 1 ORDER BY id LIMIT ?",
            (count,),
        ).fetchall()
        ids = list(dict.fromkeys([*ids, *(r[0] for r in rows)]))[:count]
    return ids


class CacheUpkeep:
    """Owns the monitor, tail and warmer tasks of one hub process."""

    def __init__(
        self, settings: Settings, store: Store, cache: Cache, catalog: CatalogGateway
    ) -> None:
        self.settings = settings
        self.store = store
        self.cache = cache
        self.catalog = catalog
        self.cursor = 0

    @asynccontextmanager
    async def lifespan(self, _: Any) -> AsyncIterator[None]:
        """Litestar lifespan hook: start after the store is open, stop before it closes."""
        await self.cache.start()
        self.cursor = await self.store.read(events.head)
        change = await self.store.write(edits.fold_missing_keys)
        if change is not None:
            await self.catalog.forget(change.touched)
        s = self.settings
        # Warming is the ops scheduler's cache_warm job (registered in create_app),
        # whose first round starts with the hub and is not awaited: a restarted hub
        # serves at once, its first misses read SQLite. One round, one cache_warmed line.
        tasks = [
            asyncio.create_task(
                self._every(s.timing.cache_monitor_seconds, "monitor", self.cache.check)
            ),
            asyncio.create_task(self._every(s.cache.tail_interval_seconds, "tail", self.tail)),
            asyncio.create_task(self._every(s.timing.catalog_words_seconds, "words", self.words)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.cache.close()

    async def tail(self) -> None:
        """Drop what the events since the last round touched."""
        more = True
        while more:
            done = self.catalog.applied.copy()
            cursor, touched, more = await self.store.read(touched_since, self.cursor, done)
            if touched:
                await self.catalog.forget(touched)
            self.cursor = cursor
            self.catalog.applied -= {seq for seq in done if seq <= cursor}

    async def words(self) -> None:
        if self.catalog.words_stale:
            await self.catalog.refresh_words()

    async def warm(self) -> None:
        await self.catalog.refresh_trigrams()
        await self.catalog.refresh_words()
        ids = await self.store.read(hot_product_ids, self.settings.cache.warm_products)
        await self.catalog.warm(ids)
        self.cache.warmed_at = datetime.now(UTC).isoformat(timespec="seconds")
        log.info("cache_warmed", products=len(ids), backend=self.cache.stats()["backend"])

    async def _every(self, seconds: float, name: str, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self._guarded(name, job)

    async def _guarded(self, name: str, job: Callable[[], Awaitable[None]]) -> None:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            if self.store.damage is None:  # a damaged file was logged once, by the store
                log.exception("cache_upkeep_failed", job=name)
