"""Cache-aside for the hub's hot reads: Redis when it is there, a bounded LRU when not.

What is cached, and for how long (the ``Kind`` constants below): products 15 min, by id
and by barcode, categories 1 h, POS sessions until closed (12 h at
most), the actor behind a token 30 min (always in process: see ``ACTOR``), search
pages 5 min. Keys are per store:
``edgehub:{store}:d:{kind}:{id}`` holds data, ``edgehub:{store}:v:{kind}:{id}``
and ``edgehub:{store}:v:{kind}`` hold versions.

Why no stale value survives an invalidation: every invalidation writes a fresh
*version token* (per entry, or per kind: one write drops every cached
search) and deletes the data. A lookup reads the data and its versions in one
round trip (MGET) and keeps the data only if it was tagged with exactly those
versions; a miss remembers the versions it saw *before* reading SQLite and tags
what it stores with them. A reader that read SQLite before a commit and stores
after that commit's invalidation therefore stores a value nobody will accept.
Tokens never repeat (a random nonce per process and a counter: no system call
per invalidation), so no order of events can make an old tag match again.
Version keys outlive any data (2 days against at most 12 h).

Redis away: each operation has a socket timeout and the pool is bounded; the
first error switches this process to the in-process LRU (emptied first: it may
hold values from an earlier outage) and ``check()`` (the lifespan's monitor,
once a second) pings until Redis answers. Invalidations meanwhile could not
reach Redis, so on its return the store's data keys there are dropped before it
is used again; the same happens at start, since writes may have happened while
no hub was watching. A switch bumps an epoch; a value loaded across a switch is
not stored. Redis slows the hub down when it goes; it never stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import msgspec

from hub.logs import get_logger
from hub.settings import Settings

log = get_logger("edgehub.cache")

VERSION_TTL = 2 * 86400
_ABSENT = b"-"  # the version of an entry never invalidated (or whose version expired)


@dataclass(frozen=True, slots=True)
class Kind:
    """A family of cached values, with its TTL; ``per_entry`` False: kind-wide version
    only; ``local``: always in this process, never in Redis."""

    name: str
    ttl: int
    per_entry: bool = True
    local: bool = False


PRODUCT = Kind("product", 15 * 60)
BARCODE = Kind("barcode", 15 * 60)
CATEGORIES = Kind("categories", 60 * 60)
SESSION = Kind("session", 12 * 3600)
# Users change only in other processes (``edgehub user add``, the sync agent), so
# every hub hears of it through its own log tail, with Redis or without: Redis
# would add one round trip to every authenticated request and nothing else.
ACTOR = Kind("actor", 30 * 60, local=True)
SEARCH = Kind("search", 5 * 60, per_entry=False)
KINDS = (PRODUCT, BARCODE, CATEGORIES, SEARCH, SESSION, ACTOR)


@dataclass(slots=True)
class KindStats:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    evictions: int = 0
    invalidations: int = 0


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a lookup saw: the version tags to store loaded values under, and the epoch."""

    tags: dict[str, bytes]
    epoch: int


class Backend(Protocol):
    async def mget(self, keys: Sequence[str]) -> list[bytes | None]: ...
    async def mset(self, items: Sequence[tuple[str, bytes, int]]) -> None: ...
    async def delete(self, keys: Sequence[str]) -> None: ...


@dataclass(slots=True)
class Memory:
    """The in-process fallback: an LRU of data bounded in bytes, beside TTL-only versions.

    Versions are never evicted for room (an evicted version would read as
    "never invalidated" and let an old tag match); if they ever grow past
    ``max_versions`` everything is dropped at once, which is always safe.
    """

    max_bytes: int
    version_prefix: str
    on_evict: Callable[[str], None]
    max_versions: int = 200_000
    used: int = 0
    data: OrderedDict[str, tuple[float, bytes]] = field(default_factory=OrderedDict)
    versions: dict[str, tuple[float, bytes]] = field(default_factory=dict)

    async def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        now = time.monotonic()
        out: list[bytes | None] = []
        for key in keys:
            table = self.versions if key.startswith(self.version_prefix) else self.data
            entry = table.get(key)
            if entry is None or entry[0] < now:
                out.append(None)
                continue
            if table is self.data:
                self.data.move_to_end(key)
            out.append(entry[1])
        return out

    async def mset(self, items: Sequence[tuple[str, bytes, int]]) -> None:
        now = time.monotonic()
        for key, value, ttl in items:
            if key.startswith(self.version_prefix):
                if len(self.versions) >= self.max_versions:
                    self.clear()
                self.versions[key] = (now + ttl, value)
                continue
            self._drop(key)
            self.data[key] = (now + ttl, value)
            self.used += len(key) + len(value) + 64
        while self.used > self.max_bytes and self.data:
            key, _ = next(iter(self.data.items()))
            self._drop(key)
            self.on_evict(key)

    async def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._drop(key)

    def _drop(self, key: str) -> None:
        entry = self.data.pop(key, None)
        if entry is not None:
            self.used -= len(key) + len(entry[1]) + 64

    def clear(self) -> None:
        self.data.clear()
        self.versions.clear()
        self.used = 0


class RedisBackend:
    """redis-py asyncio behind a bounded pool, every call under a timeout, no retries."""

    def __init__(self, url: str, pool_size: int, timeout: float) -> None:
        # Imported here: a hub without Redis, and every command but ``serve``, never
        # loads redis-py (~90 ms of a process's start).
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError

        self.errors: tuple[type[BaseException], ...] = (RedisError, *_DOWN)
        self.timeout = timeout
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=pool_size,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.client = aioredis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
        self._set_and_drop = self.client.register_script(_SET_AND_DROP)

    async def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        async with asyncio.timeout(self.timeout * 2):
            values = await self.client.mget(keys)
        # decode_responses is off: every value is bytes or None.
        return [v if isinstance(v, bytes) or v is None else v.encode() for v in values]

    async def mset(self, items: Sequence[tuple[str, bytes, int]]) -> None:
        """SET with TTL for many keys in one script call: one reply to parse instead of
        one per key (a pipeline of 500 SETs costs ~8 ms of client CPU, this ~1 ms)."""
        if items:
            await self.set_and_drop(items, [])

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await self.set_and_drop([], list(keys))

    async def set_and_drop(self, items: Sequence[tuple[str, bytes, int]], drop: list[str]) -> None:
        """Write ``items`` (key, value, TTL) and drop the keys in ``drop``, in one
        script: one round trip, and atomic, so no reader sees one without the other
        (an invalidation's new versions and its dropped data)."""
        args: list[bytes | int] = [len(items)]
        for _, value, ttl in items:
            args += [value, ttl]
        async with asyncio.timeout(self.timeout * 2):
            await self._set_and_drop(keys=[key for key, _, _ in items] + drop, args=args)

    async def ping(self) -> None:
        async with asyncio.timeout(self.timeout * 2):
            await self.client.ping()

    async def purge(self, pattern: str) -> int:
        """Drop every key matching ``pattern``, in batches (never a blocking KEYS or script)."""
        dropped = 0
        async with asyncio.timeout(max(5.0, self.timeout * 20)):
            batch: list[bytes] = []
            async for key in self.client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    dropped += await self.client.unlink(*batch)
                    batch.clear()
            if batch:
                dropped += await self.client.unlink(*batch)
        return dropped

    async def close(self) -> None:
        await self.client.aclose()


# The first ARGV[1] KEYS get ARGV[2i] for ARGV[2i+1] seconds; the rest are dropped.
# Scripts run atomically, and a batch of a few hundred SETs keeps Redis busy well
# under a millisecond.
_SET_AND_DROP = """
local sets = tonumber(ARGV[1])
for i = 1, sets do
    redis.call('SET', KEYS[i], ARGV[2 * i], 'EX', ARGV[2 * i + 1])
end
for i = sets + 1, #KEYS do
    redis.call('UNLINK', KEYS[i])
end
return #KEYS
"""

# Errors that mean "Redis is not answering"; a RedisBackend adds redis-py's RedisError,
# which wraps most socket errors (``RedisBackend.errors``).
_DOWN: tuple[type[BaseException], ...] = (OSError, TimeoutError, asyncio.TimeoutError)


class Cache:
    """The hub's cache: ``get_many``/``put_many`` (cache-aside), ``invalidate``, ``stats``."""

    def __init__(self, settings: Settings) -> None:
        self.prefix = f"edgehub:{settings.store.code}"
        self._nonce, self._tokens = os.urandom(8).hex(), itertools.count()
        self.stats_by_kind = {k.name: KindStats() for k in KINDS}
        self.memory = Memory(settings.cache.max_bytes, f"{self.prefix}:v:", self._evicted)
        self.redis = (
            RedisBackend(settings.redis.url, settings.redis.pool_size, settings.redis.timeout)
            if settings.redis.url
            else None
        )
        self.errors = self.redis.errors if self.redis is not None else _DOWN
        self.epoch = 0
        self.redis_ok = False
        self.connects = 0
        self.purged = 0
        self.warmed_at: str | None = None  # set by the warmer (hub.catalog.upkeep)
        self.last_error: str | None = None  # why Redis was last given up on

    # -- state -------------------------------------------------------------

    @property
    def state(self) -> str:
        """``off`` (no Redis configured), ``ok`` or ``down``: what ``/health`` reports."""
        if self.redis is None:
            return "off"
        return "ok" if self.redis_ok else "down"

    def _backend(self, kind: Kind) -> Backend:
        if kind.local or self.redis is None or not self.redis_ok:
            return self.memory
        return self.redis

    def _down(self, exc: BaseException) -> None:
        self.last_error = type(exc).__name__
        if self.redis_ok:
            self.redis_ok = False
            self.epoch += 1
            self.memory.clear()  # may hold values from an earlier outage
            log.warning("cache_redis_down", error=type(exc).__name__)

    async def start(self) -> None:
        """Connect if Redis answers; otherwise start on the in-process cache."""
        await self.check()

    async def check(self) -> None:
        """Ping Redis; on its return, drop what it may hold stale, then use it again."""
        if self.redis is None:
            return
        try:
            await self.redis.ping()
            if not self.redis_ok:
                self.purged += await self.redis.purge(f"{self.prefix}:d:*")
                self.memory.clear()
                self.redis_ok = True
                self.last_error = None
                self.epoch += 1
                self.connects += 1
                log.info("cache_redis_up", purged=self.purged)
        except self.errors as exc:
            self._down(exc)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.close()

    # -- keys --------------------------------------------------------------

    def data_key(self, kind: Kind, ident: str) -> str:
        return f"{self.prefix}:d:{kind.name}:{ident}"

    # -- cache-aside -------------------------------------------------------

    async def get_many(
        self, kind: Kind, idents: Iterable[str], *, count: bool = True, shape: Any = Any
    ) -> tuple[dict[str, Any], Ticket]:
        """Cached values of ``idents`` (hits only), and the ticket to store the rest with.

        ``shape``: the type hits are decoded to (a Struct comes back as the Struct it was
        stored from); plain JSON values otherwise.
        """
        idents = list(dict.fromkeys(idents))
        epoch = self.epoch
        stats = self.stats_by_kind[kind.name]
        if not idents:
            return {}, Ticket({}, epoch)
        keys = [self.data_key(kind, i) for i in idents]
        version_keys = [f"{self.prefix}:v:{kind.name}"]
        if kind.per_entry:
            version_keys += [f"{self.prefix}:v:{kind.name}:{i}" for i in idents]
        try:
            raw = await self._backend(kind).mget(keys + version_keys)
        except self.errors as exc:
            stats.errors += 1
            self._down(exc)
            return {}, Ticket({}, -1)  # -1: never stored
        values, versions = raw[: len(keys)], raw[len(keys) :]
        kind_version = versions[0] or _ABSENT
        hits: dict[str, Any] = {}
        tags: dict[str, bytes] = {}
        decode = _decoder(shape)
        for n, ident in enumerate(idents):
            entry_version = (versions[n + 1] or _ABSENT) if kind.per_entry else _ABSENT
            tag = kind_version + b"|" + entry_version
            tags[ident] = tag
            value = values[n]
            if value is not None:
                stored_tag, _, payload = value.partition(b"\n")
                if stored_tag == tag:
                    # A value another version of the hub stored in another shape is a miss.
                    with contextlib.suppress(msgspec.DecodeError):
                        hits[ident] = decode(payload)
        if count:
            stats.hits += len(hits)
            stats.misses += len(idents) - len(hits)
        return hits, Ticket(tags, epoch)

    async def put_many(self, kind: Kind, ticket: Ticket, values: dict[str, Any]) -> None:
        """Store loaded values under the versions their lookup saw (skipped across a switch)."""
        if ticket.epoch != self.epoch or not values:
            return
        ttl = int(kind.ttl * random.uniform(0.9, 1.0))  # spread expiries: no stampede
        items = [
            (self.data_key(kind, i), ticket.tags[i] + b"\n" + msgspec.json.encode(v), ttl)
            for i, v in values.items()
            if i in ticket.tags
        ]
        try:
            await self._backend(kind).mset(items)
        except self.errors as exc:
            self.stats_by_kind[kind.name].errors += 1
            self._down(exc)

    async def get_or_load(
        self, kind: Kind, ident: str, load: Callable[[], Awaitable[Any]], *, shape: Any = Any
    ) -> Any:
        """The cached value of one entry, else ``load()``'s (stored unless None)."""
        hits, ticket = await self.get_many(kind, [ident], shape=shape)
        if ident in hits:
            return hits[ident]
        value = await load()
        if value is not None:
            await self.put_many(kind, ticket, {ident: value})
        return value

    async def get_or_load_many(
        self,
        kind: Kind,
        idents: Sequence[str],
        load: Callable[[list[str]], Awaitable[dict[str, Any]]],
        *,
        shape: Any = Any,
    ) -> dict[str, Any]:
        """Cached values of ``idents``, the missing ones loaded in one call and stored."""
        hits, ticket = await self.get_many(kind, idents, shape=shape)
        missing = [i for i in dict.fromkeys(idents) if i not in hits]
        if missing:
            loaded = await load(missing)
            await self.put_many(kind, ticket, loaded)
            hits.update(loaded)
        return hits

    async def invalidate(self, kind: Kind, idents: Iterable[str] | None = None) -> None:
        """Forget entries (or, ``idents=None``, the whole kind) in whichever cache is in use.

        Also called for Redis when it is down: the attempt fails, is counted, and
        the recovery purge covers it.
        """
        token = f"{self._nonce}.{next(self._tokens)}".encode()
        stats = self.stats_by_kind[kind.name]
        if idents is None or not kind.per_entry:
            versions = [(f"{self.prefix}:v:{kind.name}", token, VERSION_TTL)]
            drop: list[str] = []
        else:
            idents = list(dict.fromkeys(idents))
            versions = [(f"{self.prefix}:v:{kind.name}:{i}", token, VERSION_TTL) for i in idents]
            drop = [self.data_key(kind, i) for i in idents]
            if not idents:
                return
        stats.invalidations += len(versions)
        # In-process first: it must be right even if Redis fails below.
        await self.memory.mset(versions)
        await self.memory.delete(drop)
        if self.redis is not None and self.redis_ok and not kind.local:
            try:
                await self.redis.set_and_drop(versions, drop)
            except self.errors as exc:
                stats.errors += 1
                self._down(exc)

    # -- figures -----------------------------------------------------------

    def _evicted(self, key: str) -> None:
        name = key[len(self.prefix) + 3 :].split(":", 1)[0]
        if name in self.stats_by_kind:
            self.stats_by_kind[name].evictions += 1

    def stats(self) -> dict[str, Any]:
        """Counters per kind (hits, misses, errors, evictions, invalidations) and the backend."""
        kinds = {name: asdict(s) for name, s in self.stats_by_kind.items()}
        for s in kinds.values():
            lookups = s["hits"] + s["misses"]
            s["hit_rate"] = round(s["hits"] / lookups, 4) if lookups else None
        return {
            "backend": "redis" if self.redis is not None and self.redis_ok else "memory",
            "redis": self.state,
            "kinds": kinds,
            "memory": {
                "entries": len(self.memory.data),
                "bytes": self.memory.used,
                "max_bytes": self.memory.max_bytes,
                "versions": len(self.memory.versions),
            },
            "redis_connects": self.connects,
            "redis_purged_keys": self.purged,
            "warmed_at": self.warmed_at,
        }


@functools.cache
def _decoder(shape: Any) -> Callable[[bytes], Any]:
    """A decoder per shape, built once rather than at every lookup."""
    return msgspec.json.Decoder(shape).decode
