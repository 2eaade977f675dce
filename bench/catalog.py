"""``python -m bench.catalog``: search, barcode lookups and the cache, at 50,000 products.

Prints, each beside a baseline measured in the same run (this box is shared
and noisy, so ratios travel better than absolute figures):

1. search at the service layer (``hub.catalog.search`` plus loading the page's
   products, no cache) against one plain FTS5 query for the same text in
   SQLite, wall clock and thread CPU time, for the till mix and for a
   misspelled mix (``bench.misspell``); and the vocabulary look-up of a
   misspelt word by rapidfuzz against the same in plain Python;
2. barcode lookup at the service layer against the bare indexed SELECT;
3. over HTTP (a served hub on one core, a lean load client on the other):
   search with cold and warm search caches, barcode lookups, against
   ``GET /health``;
4. the cache hit rate over a replayed till workload (Zipf-distributed scans and
   reads, a price change every 500 reads, each checked to be seen by the next
   read) with Redis and with the in-process fallback, warmed as the hub warms;
5. litestar's RedisStore/MemoryStore beside ``hub.cache``'s primitives.

Targets: service search p99 < 2 ms, HTTP search p99 < 10 ms, hit rate >= 97 %.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.loadclient import run_load
from bench.misspell import misspelled_queries, osa
from bench.workload import (
    build,
    cpu_seconds,
    drop_keys,
    free_port,
    serve,
    till_queries,
    token,
    wait_warm,
    zipf,
)
from hub.cache import Cache
from hub.catalog import edits, repository
from hub.catalog.gateway import CatalogGateway
from hub.catalog.search import Query, search
from hub.catalog.trigrams import TrigramStats, phrase
from hub.catalog.upkeep import CacheUpkeep
from hub.catalog.vocabulary import Vocabulary, budget
from hub.db.connection import open_db
from hub.db.store import Store
from hub.orders.money import Money
from hub.settings import Settings

MONEY = Money()
OPEN_RATE = 200.0  # requests a second: ~20 tills scanning and searching at once


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def line(label: str, values: list[float], base: list[float] | None = None) -> str:
    text = f"  {label:<44} p50 {ms(pct(values, 50)):>10}   p99 {ms(pct(values, 99)):>10}"
    if base:
        text += f"   x{pct(values, 99) / pct(base, 99):5.1f} baseline p99"
    return text


# -- 1, 2: service layer against SQLite ------------------------------------------------


def bench_service(
    settings: Settings, queries: list[str], rounds: int, prefix: str = ""
) -> dict[str, Any]:
    db = open_db(settings, readonly=True)
    stats = TrigramStats.load(db)
    words = Vocabulary.load(db)
    parsed = [Query.parse(q) for q in queries]

    def baseline(query: Query) -> None:
        if len(query.text) >= 3:
            db.execute(
                "SELECT rowid FROM product_search WHERE product_search MATCH ? LIMIT 21",
                (phrase(query.text),),
            ).fetchall()
        else:
            db.execute(
                "SELECT id FROM products WHERE name_key >= ? AND name_key < ? LIMIT 21",
                (query.text, query.text + "\U0010ffff"),
            ).fetchall()

    def page(query: Query) -> None:
        found = search(db, query, 21, None, stats, words)
        repository.products_by_id(db, MONEY, [pid for pid, _ in found[:20]])

    timings: dict[str, list[float]] = {"base": [], "svc": [], "base_cpu": [], "svc_cpu": []}
    for query in parsed[:50]:
        page(query)
        baseline(query)
    for _ in range(rounds):
        for query in parsed:  # interleaved, so noise hits both alike
            for name, fn in (("base", baseline), ("svc", page)):
                wall, cpu = time.perf_counter(), time.thread_time()
                fn(query)
                timings[name + "_cpu"].append(time.thread_time() - cpu)
                timings[name].append(time.perf_counter() - wall)
    if prefix:
        db.close()
        return {prefix + k: v for k, v in timings.items()}

    barcodes = [r[0] for r in db.execute("SELECT barcode FROM products WHERE barcode IS NOT NULL")]
    rng = random.Random(9)
    picks = [rng.choice(barcodes) for _ in range(5000)]
    timings["bc_base"], timings["bc_svc"] = [], []
    for code in picks:
        started = time.perf_counter()
        db.execute("SELECT id FROM products WHERE barcode = ?", (code,)).fetchone()
        timings["bc_base"].append(time.perf_counter() - started)
        started = time.perf_counter()
        ids = db.execute("SELECT id FROM products WHERE barcode = ?", (code,)).fetchone()
        repository.products_by_id(db, MONEY, [ids[0]])
        timings["bc_svc"].append(time.perf_counter() - started)
    db.close()
    return timings


def bench_vocabulary(settings: Settings, typed: list[str]) -> dict[str, Any]:
    """Finding a misspelt word's variants: rapidfuzz over the shelves of entries within
    the typo budget's lengths, against the same loop with a plain-Python distance."""
    db = open_db(settings, readonly=True)
    words = Vocabulary.load(db)
    db.close()
    picked = [w for q in typed for w in q.split() if budget(w)][:200]

    def plain(word: str) -> int:
        typos, hits = budget(word), 0
        for size in range(len(word) - typos, len(word) + typos + 1):
            shelf = words.by_length.get(size)
            hits += sum(osa(word, e) <= typos for e in shelf.entries) if shelf else 0
        return hits

    out: dict[str, Any] = {"rf": [], "py": [], "entries": len(words)}
    for word in picked:
        started = time.thread_time()
        words.variants(word, budget(word))
        out["rf"].append(time.thread_time() - started)
    for word in picked[:40]:  # the plain loop is slow; fewer words say as much
        started = time.thread_time()
        plain(word)
        out["py"].append(time.thread_time() - started)
    return out


# -- 3: HTTP -----------------------------------------------------------------------------


def bench_http(
    settings: Settings,
    queries: list[str],
    others: list[str],
    typos: list[str],
    redis_url: str | None,
    store: str,
) -> dict[str, Any]:
    from urllib.parse import quote

    port = free_port()
    proc = serve(settings, redis_url, store, port)
    try:
        bearer = token(port)
        wait_warm(port, bearer)
        db = open_db(settings, readonly=True)
        codes = [r[0] for r in db.execute("SELECT barcode FROM products ORDER BY id")]
        db.close()
        draw = zipf(len(codes), 1.1, random.Random(4))
        scans = [f"/api/v1/products?barcode={codes[draw()]}" for _ in range(4000)]
        searches = [f"/api/v1/products?q={quote(q)}&limit=20" for q in dict.fromkeys(queries)]
        fresh = [f"/api/v1/products?q={quote(q)}&limit=20" for q in dict.fromkeys(others)]
        fresh = [p for p in fresh if p not in set(searches)]
        typo_paths = [f"/api/v1/products?q={quote(q)}&limit=20" for q in dict.fromkeys(typos)]
        out: dict[str, Any] = {}
        runs: list[tuple[str, list[str], float | None]] = [
            ("health", ["/health"] * 3000, None),
            ("search_cold", searches, None),
            ("search_warm", searches * 3, None),
            ("barcode", scans, None),
            ("health_open", ["/health"] * 1000, OPEN_RATE),
            ("search_cold_open", fresh, OPEN_RATE),
            ("search_warm_open", (searches * 3)[:1000], OPEN_RATE),
            ("typo_open", typo_paths, OPEN_RATE),
            ("barcode_open", scans[:1000], OPEN_RATE),
        ]
        for name, paths, rate in runs:
            before = cpu_seconds(proc.pid)
            out[name] = run_load(port, paths, bearer, connections=4, cpu=1, rate=rate)
            out[name + "_cpu"] = (cpu_seconds(proc.pid) - before) / len(paths)
        return out
    finally:
        proc.terminate()
        proc.wait(20)


# -- 4: hit rate over a till workload ------------------------------------------------------


def bench_hit_rate(
    settings: Settings, redis_url: str | None, store: str, reads: int, warm: bool
) -> dict[str, Any]:
    """Zipf (s = 1.1) over the sellable products in a shuffled order: 80 % barcode scans,
    20 % reads by id; a price change every 500 reads, drawn from the same Zipf."""
    run_settings = settings.replace(redis_url=redis_url, store=store)

    async def replay() -> dict[str, Any]:
        store_ = Store(run_settings)
        store_.start()
        cache = Cache(run_settings)
        await cache.start()
        catalog = CatalogGateway(store_, cache, MONEY)
        warm_seconds = 0.0
        if warm:
            started = time.perf_counter()
            await CacheUpkeep(run_settings, store_, cache, catalog).warm()
            warm_seconds = time.perf_counter() - started
        rows = await store_.read(
            lambda db: db.execute(
                "SELECT id, barcode, price FROM products WHERE active = 1 AND sale_ok = 1 "
                "AND barcode IS NOT NULL"
            ).fetchall()
        )
        rng = random.Random(11)
        rng.shuffle(rows)
        draw = zipf(len(rows), 1.1, rng)
        expected = {pid: MONEY.text(price) for pid, _, price in rows}
        stale = changes = 0
        started = time.perf_counter()
        for n in range(1, reads + 1):
            pid, barcode, _ = rows[draw()]
            product = (
                await catalog.by_barcode(barcode)
                if rng.random() < 0.8
                else await catalog.product(pid)
            )
            assert product is not None
            stale += product.price != expected[pid]
            if n % 500 == 0:
                pid = rows[draw()][0]
                new = rng.randrange(100, 9000)
                await catalog.apply(edits.update_product, MONEY, pid, price=new)
                expected[pid] = MONEY.text(new)
                changes += 1
        elapsed = time.perf_counter() - started
        stats = cache.stats()
        await cache.close()
        store_.close()
        kinds = stats["kinds"]
        hits = kinds["product"]["hits"] + kinds["barcode"]["hits"]
        lookups = hits + kinds["product"]["misses"] + kinds["barcode"]["misses"]
        return {
            "hit_rate": hits / lookups,
            "product": kinds["product"]["hit_rate"],
            "barcode": kinds["barcode"]["hit_rate"],
            "stale": stale,
            "changes": changes,
            "reads_per_s": reads / elapsed,
            "warm_s": warm_seconds,
            "backend": stats["backend"],
        }

    return asyncio.run(replay())


# -- 5: litestar's stores beside ours -----------------------------------------------------


def bench_stores(redis_url: str | None, store: str, n: int = 3000) -> dict[str, list[float]]:
    from litestar.stores.memory import MemoryStore
    from litestar.stores.redis import RedisStore
    from redis.asyncio import Redis

    from hub.cache import Memory

    async def measure() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {
            k: [] for k in ("ls_mem", "hub_mem", "ls_redis", "hub_redis")
        }
        mem = MemoryStore()
        ours = Memory(1 << 26, "v:", lambda _: None)
        await mem.set("d", b"x" * 400, 60)
        await mem.set("v", b"t", 60)
        await ours.mset([("d", b"x" * 400, 60), ("v:1", b"t", 60)])
        for _ in range(n):
            t = time.perf_counter()
            await mem.get("d")
            await mem.get("v")
            out["ls_mem"].append(time.perf_counter() - t)
            t = time.perf_counter()
            await ours.mget(["d", "v:1"])
            out["hub_mem"].append(time.perf_counter() - t)
        if redis_url:
            client = Redis.from_url(redis_url)
            ls = RedisStore(client, namespace=f"edgehub:{store}:ls")
            await ls.set("d", b"x" * 400, 60)
            await ls.set("v", b"t", 60)
            keys = [f"edgehub:{store}:ls:d", f"edgehub:{store}:ls:v"]
            for _ in range(n):
                t = time.perf_counter()
                await ls.get("d")
                await ls.get("v")  # the version check needs a second round trip
                out["ls_redis"].append(time.perf_counter() - t)
                t = time.perf_counter()
                await client.mget(keys)
                out["hub_redis"].append(time.perf_counter() - t)
            await client.delete(*keys)
            await client.aclose()
        return out

    return asyncio.run(measure())


def misspelled(settings: Settings, count: int) -> list[str]:
    db = open_db(settings, readonly=True)
    names = [r[0] for r in db.execute("SELECT name_key FROM products ORDER BY id")]
    db.close()
    return misspelled_queries(names, count)


# -- main ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.catalog", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--db", type=Path, help="reuse (or create) this database file")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="'' for none")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--reads", type=int, default=40_000, help="reads per hit-rate replay")
    parser.add_argument("--parts", default="1,3,4,5", help="which of 1 (and 2), 3, 4, 5 to run")
    args = parser.parse_args()
    redis_url = args.redis or None
    store = f"bench{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="edgehub-bench-"))
    db_path = args.db or workdir / "edgehub.db"
    print(
        f"EdgeHub catalogue benchmark: {args.products:,} products, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} (other work on the box shows in every figure)"
    )
    settings = build(db_path, args.products)
    queries = till_queries(settings, args.queries)
    typos = misspelled(settings, args.queries)
    parts = set(args.parts.split(","))
    try:
        if "1" in parts:
            print("\n1-2. Service layer vs SQLite (one connection, this process)")
            t = bench_service(settings, queries, rounds=3)
            print(line("SQLite: one FTS5 MATCH / name range, LIMIT 21", t["base"]))
            print(line("service: ranked search + products of the page", t["svc"], t["base"]))
            print(line("  same, thread CPU time", t["svc_cpu"], t["base_cpu"]))
            m = bench_service(settings, typos, rounds=3, prefix="m_")
            print("  misspelled mix (one typo or a dropped space per query):")
            print(line("SQLite: one FTS5 MATCH, LIMIT 21 (finds ~nothing)", m["m_base"]))
            print(line("service: search incl. fuzzy + page's products", m["m_svc"], m["m_base"]))
            print(line("  same, thread CPU time", m["m_svc_cpu"], m["m_base_cpu"]))
            v = bench_vocabulary(settings, typos)
            entries = v["entries"]
            print(f"  vocabulary look-up of a misspelt word ({entries:,} entries), thread CPU:")
            print(line("plain-Python OSA distance over the shelves", v["py"]))
            print(line("rapidfuzz OSA (hub.catalog.vocabulary)", v["rf"]))
            print(line("SQLite: barcode = ? (unique index)", t["bc_base"]))
            print(line("service: barcode lookup + product", t["bc_svc"], t["bc_base"]))

        if "3" in parts:
            print(f"\n3. HTTP: hub on CPU 0 ({'Redis' if redis_url else 'in-process cache'}), "
                  "load client on CPU 1, 4 keep-alive connections; saturated = closed loop, "
                  f"then open loop at {OPEN_RATE:.0f} req/s (a busy store's tills)")  # fmt: skip
            others = till_queries(settings, args.queries, seed=8)
            h = bench_http(settings, queries, others, typos, redis_url, store)
            base = h["health"].latencies
            for name, label in (
                ("health", "saturated: GET /health (baseline)"),
                ("search_cold", "saturated: search, cache miss"),
                ("search_warm", "saturated: search, cache hit"),
                ("barcode", "saturated: barcode scan, Zipf"),
                ("health_open", f"{OPEN_RATE:.0f} req/s: GET /health (baseline)"),
                ("search_cold_open", f"{OPEN_RATE:.0f} req/s: search, cache miss"),
                ("search_warm_open", f"{OPEN_RATE:.0f} req/s: search, cache hit"),
                ("typo_open", f"{OPEN_RATE:.0f} req/s: misspelled search, miss"),
                ("barcode_open", f"{OPEN_RATE:.0f} req/s: barcode scan, Zipf"),
            ):
                r = h[name]
                if name == "health_open":
                    base = r.latencies
                print(line(label, r.latencies, None if name.startswith("health") else base)
                      + f"  {r.rate:5.0f} req/s  hub CPU {h[name + '_cpu'] * 1e3:.2f} ms/req"
                      + f"  client CPU {r.client_cpu / r.wall:3.0%}"
                      + ("" if set(r.statuses) == {200} else f"  {r.statuses}"))  # fmt: skip

        if "4" in parts:
            print(f"\n4. Cache hit rate, till workload ({args.reads:,} reads, price change / 500)")
            runs: list[dict[str, Any]] = []
            for label, url, warm in (
                ("Redis, warmed", redis_url, True),
                ("in-process fallback, warmed", None, True),
                ("in-process fallback, cold (no warming)", None, False),
            ):
                if label.startswith("Redis") and not url:
                    continue
                r = bench_hit_rate(settings, url, f"{store}h{len(runs)}", args.reads, warm)
                runs.append(r)
                print(f"  {label:<40} hit rate {r['hit_rate']:.2%} (product {r['product']:.2%}, "
                      f"barcode {r['barcode']:.2%})  stale reads {r['stale']} after "
                      f"{r['changes']} price changes  {r['reads_per_s']:,.0f} reads/s"
                      + (f"  warm {r['warm_s']:.1f} s" if warm else ""))  # fmt: skip

        if "5" in parts:
            print("\n5. litestar stores vs hub.cache primitives (value + version check)")
            s = bench_stores(redis_url, store)
            print(line("litestar MemoryStore: get + get", s["ls_mem"]))
            print(line("hub.cache Memory: mget of both", s["hub_mem"]))
            if redis_url:
                print(line("litestar RedisStore: get + get (2 round trips)", s["ls_redis"]))
                print(line("redis-py MGET of both (hub.cache)", s["hub_redis"]))
    finally:
        if redis_url:
            for suffix in ("", "h0", "h1", "h2"):
                drop_keys(redis_url, store + suffix)
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
