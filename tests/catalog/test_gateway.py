"""The catalogue gateway and the cache upkeep in process: a real store, a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from hub import events
from hub.cache import Cache
from hub.catalog import edits
from hub.catalog.gateway import CatalogGateway
from hub.catalog.search import Query
from hub.catalog.upkeep import CacheUpkeep
from hub.db.connection import immediate, open_db
from hub.db.store import Store
from hub.orders.money import Money
from hub.settings import Settings

money = Money()
ESPRESSO_BARCODE = "2000000000107"

Scenario = Callable[[Store, Cache, CatalogGateway], Awaitable[None]]


def run(settings: Settings, scenario: Scenario) -> None:
    async def main() -> None:
        store = Store(settings)
        store.start()
        cache = Cache(settings)
        await cache.start()
        try:
            await scenario(store, cache, CatalogGateway(store, cache, money))
        finally:
            await cache.close()
            store.close()

    asyncio.run(main())


@pytest.fixture(params=["redis", "memory"])
def backend_settings(request: pytest.FixtureRequest, cache_settings: Settings) -> Settings:
    if request.param == "memory":
        return cache_settings
    shared: str = request.getfixturevalue("shared_redis")
    return cache_settings.replace(redis_url=shared)


def test_price_change_is_seen_by_the_next_read(backend_settings: Settings) -> None:
    """A committed price is the next read by id, barcode and in a cached search page."""

    async def scenario(store: Store, cache: Cache, catalog: CatalogGateway) -> None:
        product = await catalog.by_barcode(ESPRESSO_BARCODE)
        assert product is not None and product.price == "2.20"
        await catalog.product(product.id)
        page = await catalog.search(Query.parse("espresso"), 10)
        assert page.items[0].price == "2.20"
        await catalog.apply(edits.update_product, money, product.id, price=260)
        assert (await catalog.product(product.id)).price == "2.60"  # type: ignore[union-attr]
        assert (await catalog.by_barcode(ESPRESSO_BARCODE)).price == "2.60"  # type: ignore[union-attr]
        again = await catalog.search(Query.parse("espresso"), 10)
        assert again.items[0].price == "2.60"
        # The page itself was still good: a price change leaves search pages alone.
        assert cache.stats()["kinds"]["search"]["hits"] == 1

    run(backend_settings, scenario)


def test_archived_product_leaves_cached_searches(backend_settings: Settings) -> None:
    """Archiving changes what searches return, so cached pages are dropped with it."""

    async def scenario(store: Store, cache: Cache, catalog: CatalogGateway) -> None:
        page = await catalog.search(Query.parse("brownie"), 10)
        (brownie,) = page.items
        await catalog.apply(edits.update_product, money, brownie.id, active=False)
        assert (await catalog.search(Query.parse("brownie"), 10)).items == []
        listed = await catalog.listing(None, "yes", 500, None)
        assert brownie.id not in [p.id for p in listed[0]]

    run(backend_settings, scenario)


def test_another_process_write_reaches_the_cache_through_the_log(
    backend_settings: Settings,
) -> None:
    """Another process's write stays cached until the log tail reads its event, then goes."""

    async def scenario(store: Store, cache: Cache, catalog: CatalogGateway) -> None:
        upkeep = CacheUpkeep(backend_settings, store, cache, catalog)
        upkeep.cursor = await store.read(events.head)
        product = await catalog.by_barcode(ESPRESSO_BARCODE)
        assert product is not None
        await catalog.product(product.id)
        other = open_db(backend_settings)  # another process's connection
        with immediate(other):
            edits.update_product(other, money, product.id, price=300)
        other.close()
        assert (await catalog.product(product.id)).price == "2.20"  # type: ignore[union-attr]
        assert (await catalog.by_barcode(ESPRESSO_BARCODE)).price == "2.20"  # type: ignore[union-attr]
        await upkeep.tail()
        assert (await catalog.product(product.id)).price == "3.00"  # type: ignore[union-attr]
        assert (await catalog.by_barcode(ESPRESSO_BARCODE)).price == "3.00"  # type: ignore[union-attr]

    run(backend_settings, scenario)


def test_a_gap_in_the_log_drops_everything(backend_settings: Settings) -> None:
    """If the log was pruned past the tail's cursor, every cached entry goes, none is guessed at."""

    async def scenario(store: Store, cache: Cache, catalog: CatalogGateway) -> None:
        upkeep = CacheUpkeep(backend_settings, store, cache, catalog)
        upkeep.cursor = await store.read(events.head)
        product = await catalog.by_barcode(ESPRESSO_BARCODE)
        assert product is not None
        other = open_db(backend_settings)
        with immediate(other):
            edits.update_product(other, money, product.id, price=310)
            other.execute("DELETE FROM events")  # pruned before this hub read it
        other.close()
        await upkeep.tail()
        assert (await catalog.by_barcode(ESPRESSO_BARCODE)).price == "3.10"  # type: ignore[union-attr]

    run(backend_settings, scenario)


def test_the_tail_skips_what_this_process_already_dropped(backend_settings: Settings) -> None:
    """A write made here is dropped once, right after its commit, not again by the tail."""

    async def scenario(store: Store, cache: Cache, catalog: CatalogGateway) -> None:
        upkeep = CacheUpkeep(backend_settings, store, cache, catalog)
        upkeep.cursor = await store.read(events.head)
        product = await catalog.by_barcode(ESPRESSO_BARCODE)
        assert product is not None
        await catalog.apply(edits.update_product, money, product.id, price=250)
        await catalog.product(product.id)
        before = cache.stats()["kinds"]["product"]["invalidations"]
        await upkeep.tail()
        assert cache.stats()["kinds"]["product"]["invalidations"] == before
        assert catalog.applied == set()

    run(backend_settings, scenario)


def test_warming_fills_the_hot_set_without_counting(backend_settings: Settings) -> None:
    """After warming, hot reads are hits, and warming itself is not counted as traffic."""

    async def scenario(store: Store, cache: Cache, catalog: CatalogGateway) -> None:
        upkeep = CacheUpkeep(backend_settings, store, cache, catalog)
        await upkeep.warm()
        assert cache.stats()["kinds"]["product"]["misses"] == 0
        await catalog.products(list(range(1, 11)))
        await catalog.categories()
        stats = cache.stats()["kinds"]
        assert stats["product"]["hits"] == 10 and stats["product"]["misses"] == 0
        assert stats["categories"]["hits"] == 1
        assert catalog.trigrams.total > 0

    run(backend_settings, scenario)


def test_a_new_products_misspellings_are_found_once_its_words_are_read(
    cache_settings: Settings,
) -> None:
    """A product another process adds is found by a typo after the tail and a words round."""

    async def scenario(store: Store, cache: Cache, catalog: CatalogGateway) -> None:
        upkeep = CacheUpkeep(cache_settings, store, cache, catalog)
        upkeep.cursor = await store.read(events.head)
        await upkeep.words()
        assert not catalog.words_stale
        assert (await catalog.search(Query.parse("tiramisu"), 10)).items == []
        other = open_db(cache_settings)  # another process's connection
        with immediate(other):
            edits.upsert_product(other, money, edits.ProductInput("Tiramisu", 650))
        other.close()
        assert (await catalog.search(Query.parse("tiramsiu"), 10)).items == []
        await upkeep.tail()
        assert catalog.words_stale
        await upkeep.words()
        found = (await catalog.search(Query.parse("tiramsiu"), 10)).items
        assert [p.name for p in found] == ["Tiramisu"]

    run(cache_settings, scenario)
