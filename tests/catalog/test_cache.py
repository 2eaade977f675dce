"""hub.cache against a real Redis (the shared one, keys under this test's store code)
and a private one that the outage tests pause and kill."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import redis

from hub.cache import ACTOR, BARCODE, CATEGORIES, KINDS, PRODUCT, SEARCH, SESSION, Cache, Kind
from hub.sessions import Session
from tests.conftest import make_settings
from tests.support.redis_server import PrivateRedis


def make_cache(tmp_path: Path, store: str, redis_url: str | None, **extra: Any) -> Cache:
    return Cache(make_settings(tmp_path / "e.db", store=store, redis_url=redis_url, **extra))


class Loader:
    """Counts how often the database would have been asked."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.calls = 0

    async def __call__(self) -> Any:
        self.calls += 1
        return self.value


def run(coro: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coro())


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_miss_then_hit_then_invalidated(
    tmp_path: Path, store_code: str, shared_redis: str, kind: Kind
) -> None:
    """Each kind: the first read loads, the second hits, and after invalidation it loads again."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, shared_redis)
        await cache.start()
        load = Loader({"price": "4.50"})
        assert await cache.get_or_load(kind, "7", load) == {"price": "4.50"}
        assert await cache.get_or_load(kind, "7", load) == {"price": "4.50"}
        assert load.calls == 1
        await cache.invalidate(kind, ["7"])
        await cache.get_or_load(kind, "7", load)
        assert load.calls == 2
        counters = cache.stats()["kinds"][kind.name]
        assert (counters["hits"], counters["misses"], counters["errors"]) == (1, 2, 0)
        assert cache.stats()["backend"] == "redis"
        await cache.close()

    run(scenario)


def test_a_struct_comes_back_as_itself_and_another_shape_is_a_miss(
    tmp_path: Path, store_code: str, shared_redis: str
) -> None:
    """Handlers return what the cache gives them, so it must be the Struct they serve; a value
    an older hub stored in another shape is loaded afresh, not served or raised."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, shared_redis)
        await cache.start()
        session = Session(
            7, "till-1", 3, "open", "10.00", None, 0, "2026-01-01T00:00:00Z", None, None
        )
        await cache.get_or_load(SESSION, "7", Loader({"terminal": "till-1"}))  # another shape
        load = Loader(session)
        assert await cache.get_or_load(SESSION, "7", load, shape=Session) == session
        cached = await cache.get_or_load(SESSION, "7", load, shape=Session)
        assert isinstance(cached, Session) and cached == session
        assert load.calls == 1
        await cache.close()

    run(scenario)


def test_invalidating_one_product_keeps_the_others(
    tmp_path: Path, store_code: str, shared_redis: str
) -> None:
    """A price change costs one miss, not a cold catalogue."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, shared_redis)
        await cache.start()
        loaded: list[list[str]] = []

        async def load(ids: list[str]) -> dict[str, Any]:
            loaded.append(ids)
            return {i: {"id": i} for i in ids}

        await cache.get_or_load_many(PRODUCT, ["1", "2", "3"], load)
        await cache.invalidate(PRODUCT, ["2"])
        await cache.get_or_load_many(PRODUCT, ["1", "2", "3"], load)
        assert loaded == [["1", "2", "3"], ["2"]]
        await cache.close()

    run(scenario)


def test_one_write_drops_every_cached_search(
    tmp_path: Path, store_code: str, shared_redis: str
) -> None:
    """Search pages share one version: a single write invalidates them all at once."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, shared_redis)
        await cache.start()
        load = Loader({"ids": [1]})
        for page in range(20):
            await cache.get_or_load(SEARCH, f"page{page}", load)
        await cache.invalidate(SEARCH)
        for page in range(20):
            await cache.get_or_load(SEARCH, f"page{page}", load)
        assert load.calls == 40
        await cache.close()

    run(scenario)


@pytest.mark.parametrize("backend", ["redis", "memory"])
def test_a_slow_reader_cannot_plant_a_stale_value(
    tmp_path: Path, store_code: str, shared_redis: str, backend: str
) -> None:
    """A read begun before a commit cannot store its old value after the commit's invalidation."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, shared_redis if backend == "redis" else None)
        await cache.start()
        hits, ticket = await cache.get_many(PRODUCT, ["5"])  # miss, before the commit
        assert hits == {}
        await cache.invalidate(PRODUCT, ["5"])  # the writer, after its commit
        await cache.put_many(PRODUCT, ticket, {"5": {"price": "old"}})  # the slow reader
        fresh = Loader({"price": "new"})
        assert await cache.get_or_load(PRODUCT, "5", fresh) == {"price": "new"}
        assert fresh.calls == 1
        await cache.close()

    run(scenario)


def test_keys_are_namespaced_per_store(tmp_path: Path, store_code: str, shared_redis: str) -> None:
    """Two stores on one Redis never see each other's products."""

    async def scenario() -> None:
        mine = make_cache(tmp_path, store_code, shared_redis)
        other = make_cache(tmp_path, store_code + "x", shared_redis)
        await mine.start()
        await other.start()
        await mine.get_or_load(PRODUCT, "1", Loader({"store": "mine"}))
        assert await other.get_or_load(PRODUCT, "1", Loader({"store": "other"})) == {
            "store": "other"
        }
        client = redis.Redis.from_url(shared_redis)
        keys = {k.decode() for k in client.scan_iter(match=f"edgehub:{store_code}:*")}
        assert f"edgehub:{store_code}:d:product:1" in keys
        client.close()
        await mine.close()
        await other.close()
        from tests.support.redis_server import drop_keys

        drop_keys(shared_redis, store_code + "x")

    run(scenario)


def test_without_redis_the_in_process_cache_serves(tmp_path: Path, store_code: str) -> None:
    """No EDGEHUB_REDIS_URL: state 'off', and reads are still cached, in process."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, None)
        await cache.start()
        load = Loader([{"id": 1, "name": "Drinks"}])
        await cache.get_or_load(CATEGORIES, "all", load)
        await cache.get_or_load(CATEGORIES, "all", load)
        assert load.calls == 1
        assert cache.state == "off" and cache.stats()["backend"] == "memory"

    run(scenario)


def test_in_process_cache_is_bounded_and_counts_evictions(tmp_path: Path, store_code: str) -> None:
    """The fallback holds at most cache_max_bytes; what it drops is counted per kind."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, None, cache_max_bytes=1024 * 1024)
        blob = "x" * 50_000
        for i in range(100):
            await cache.get_or_load(SESSION, str(i), Loader({"blob": blob}))
        stats = cache.stats()
        assert stats["memory"]["bytes"] <= 1024 * 1024
        assert stats["kinds"]["session"]["evictions"] >= 75
        recent = Loader(None)
        assert await cache.get_or_load(SESSION, "99", recent) == {"blob": blob}
        assert recent.calls == 0

    run(scenario)


def test_unreachable_redis_at_start_means_in_process_cache(tmp_path: Path, store_code: str) -> None:
    """A hub starting while Redis is away starts anyway, degraded, on its own cache."""
    from tests.support.hub_process import free_port

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, f"redis://127.0.0.1:{free_port()}/0")
        await cache.start()
        assert cache.state == "down"
        load = Loader({"id": 3})
        await cache.get_or_load(ACTOR, "3", load)
        await cache.get_or_load(ACTOR, "3", load)
        assert load.calls == 1
        await cache.close()

    run(scenario)


def test_redis_killed_reads_go_on_and_it_comes_back(
    tmp_path: Path, store_code: str, private_redis: PrivateRedis
) -> None:
    """Redis dies mid-run: reads still answer, errors are counted, Redis is used again on return."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, private_redis.url)
        await cache.start()
        load = Loader({"id": 1})
        await cache.get_or_load(BARCODE, "300", load)
        private_redis.kill()
        assert await cache.get_or_load(BARCODE, "300", load) == {"id": 1}
        assert cache.state == "down" and cache.stats()["kinds"]["barcode"]["errors"] == 1
        await cache.get_or_load(BARCODE, "300", load)
        await cache.get_or_load(BARCODE, "300", load)
        assert load.calls == 3  # one load to refill memory, then memory hits
        private_redis.start()
        await cache.check()
        assert cache.state == "ok" and cache.stats()["backend"] == "redis"
        await cache.get_or_load(BARCODE, "300", load)
        await cache.get_or_load(BARCODE, "300", load)
        assert load.calls == 4
        await cache.close()

    run(scenario)


def test_what_redis_missed_while_unreachable_is_purged_on_return(
    tmp_path: Path, store_code: str, private_redis: PrivateRedis
) -> None:
    """An invalidation Redis missed while hung cannot bring an old price back when it answers."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, private_redis.url, redis_timeout=0.2)
        await cache.start()
        await cache.get_or_load(PRODUCT, "8", Loader({"price": "old"}))
        assert private_redis.proc is not None
        os.kill(private_redis.proc.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            new = Loader({"price": "new"})
            await cache.get_or_load(PRODUCT, "9", new)  # times out: Redis is down
            assert time.monotonic() - started < 1.5, "a hung Redis must not hang the hub"
            assert cache.state == "down"
            await cache.invalidate(PRODUCT, ["8"])  # the price change: Redis never hears of it
            assert await cache.get_or_load(PRODUCT, "8", new) == {"price": "new"}
        finally:
            os.kill(private_redis.proc.pid, signal.SIGCONT)
        await cache.check()
        assert cache.state == "ok"
        assert await cache.get_or_load(PRODUCT, "8", Loader({"price": "new"})) == {"price": "new"}
        await cache.close()

    run(scenario)


def test_invalidation_drops_the_data_and_sets_versions_in_redis(
    tmp_path: Path, store_code: str, shared_redis: str
) -> None:
    """Another worker reads Redis, not this process's memory: there the data must be gone
    and the new version set (with its TTL), for every entry named."""

    async def scenario() -> None:
        cache = make_cache(tmp_path, store_code, shared_redis)
        await cache.start()

        async def load(ids: list[str]) -> dict[str, Any]:
            return {i: {"id": i} for i in ids}

        await cache.get_or_load_many(PRODUCT, ["1", "2", "3"], load)
        await cache.invalidate(PRODUCT, ["1", "2"])
        await cache.close()

    run(scenario)
    client = redis.Redis.from_url(shared_redis)
    prefix = f"edgehub:{store_code}"
    assert [client.exists(f"{prefix}:d:{PRODUCT.name}:{i}") for i in "123"] == [0, 0, 1]
    versions = [client.get(f"{prefix}:v:{PRODUCT.name}:{i}") for i in "12"]
    assert all(versions) and versions[0] == versions[1]
    assert 0 < client.ttl(f"{prefix}:v:{PRODUCT.name}:1") <= 2 * 86400
