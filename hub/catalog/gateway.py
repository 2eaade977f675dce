"""The catalogue as async code sees it: cached reads, and writes that invalidate after commit.

Reads go through ``hub.cache`` (cache-aside): products by id, barcode → id,
categories, and search or list pages. A page is cached as product *ids* and
the products come from the product cache, so a price change drops one product
and no page, while a change of what pages hold (a new product, a name, a code,
a category, availability) drops every page with one version write.

Writes run a ``hub.catalog.edits`` function in the writer's transaction, then,
once it has committed, drop exactly what its ``Touched`` names: the next read
on this hub sees the change. Other processes' writes reach this cache through
the event log (``hub.catalog.upkeep``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import sqlite_utils

from hub.cache import ACTOR, BARCODE, CATEGORIES, PRODUCT, SEARCH, SESSION, Cache
from hub.catalog import repository
from hub.catalog.edits import Change, Touched
from hub.catalog.models import Product, ProductPage
from hub.catalog.search import Availability, Position, Query, search
from hub.catalog.trigrams import NO_STATS, TrigramStats
from hub.catalog.vocabulary import NO_WORDS, Vocabulary
from hub.db.store import Store
from hub.orders.money import Money


def _products(db: sqlite_utils.Database, money: Money, ids: list[int]) -> dict[str, Product]:
    found = repository.products_by_id(db, money, ids)
    return {str(pid): product for pid, product in found.items()}


def _by_barcodes(db: sqlite_utils.Database, money: Money, codes: list[str]) -> dict[str, Product]:
    marks = ",".join("?" * len(codes))
    rows = db.execute(f"SELECT id FROM products WHERE barcode IN ({marks})", codes).fetchall()
    found = repository.products_by_id(db, money, [r[0] for r in rows])
    return {p.barcode: p for p in found.values() if p.barcode is not None}


def _barcodes_of(db: sqlite_utils.Database, ids: list[int]) -> list[str]:
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT barcode FROM products WHERE barcode IS NOT NULL AND id IN ({marks})", ids
    )
    return [r[0] for r in rows.fetchall()]


def stock_moved(db: sqlite_utils.Database, product_ids: Iterable[int]) -> Touched:
    """What a sale or refund of these products makes stale in the cache: the
    stock-tracked ones (their quantity moved) and their barcodes.

    Read inside the write that moved the stock, so the caller can forget them
    as soon as it is answered, without another trip to a reader thread.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return Touched()
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT id, barcode FROM products WHERE stock_tracked = 1 AND id IN ({marks})", ids
    ).fetchall()
    return Touched(
        products=frozenset(r[0] for r in rows), barcodes=frozenset(r[1] for r in rows if r[1])
    )


def _search_page(
    db: sqlite_utils.Database, money: Money, query: Query, limit: int,
    after: Position | None, stats: TrigramStats, words: Vocabulary,
) -> tuple[dict[str, Any], dict[int, Product]]:  # fmt: skip
    """A page of ids to cache, and its products as SQLite has them now."""
    found = search(db, query, limit + 1, after, stats, words)
    more = len(found) > limit
    found = found[:limit]
    ids = [pid for pid, _ in found]
    page = {"ids": ids, "next": found[-1][1].encode() if more and found else None}
    return page, repository.products_by_id(db, money, ids)


def _list_page(
    db: sqlite_utils.Database, money: Money, category_id: int | None,
    available: Availability, limit: int, after: int | None,
) -> tuple[dict[str, Any], dict[int, Product]]:  # fmt: skip
    ids = repository.list_product_ids(
        db, limit=limit + 1, after=after, category_id=category_id, available=available
    )
    more = len(ids) > limit
    ids = ids[:limit]
    page = {"ids": ids, "next": ids[-1] if more and ids else None}
    return page, repository.products_by_id(db, money, ids)


class CatalogGateway:
    """One per process: the store, the cache, and the trigram statistics and
    vocabulary search uses."""

    def __init__(self, store: Store, cache: Cache, money: Money) -> None:
        self.store = store
        self.cache = cache
        self.money = money
        self.trigrams = NO_STATS
        self.words = NO_WORDS
        # Set when a change may have brought new words; upkeep then reloads them.
        self.words_stale = True
        # Seqs of catalog.updated events this process already invalidated after
        # its own commit, so the log tail does not drop the same entries twice.
        self.applied: set[int] = set()

    # -- reads -------------------------------------------------------------

    async def product(self, product_id: int) -> Product | None:
        found = await self.products([product_id])
        return found.get(product_id)

    async def products(self, ids: list[int]) -> dict[int, Product]:
        """Products by id (unknown ids are left out), from the cache where it has them."""

        async def load(missing: list[str]) -> dict[str, Product]:
            return await self.store.read(_products, self.money, [int(i) for i in missing])

        found = await self.cache.get_or_load_many(
            PRODUCT, [str(i) for i in ids], load, shape=Product
        )
        return {int(k): v for k, v in found.items()}

    async def by_barcode(self, code: str) -> Product | None:
        """The product a scanner read: one cache round trip, as the barcode's entry holds
        the product itself (every write of a product names its barcodes, old and new)."""

        async def load(codes: list[str]) -> dict[str, Product]:
            return await self.store.read(_by_barcodes, self.money, codes)

        found = await self.cache.get_or_load_many(BARCODE, [code], load, shape=Product)
        return found.get(code)

    async def categories(self) -> list[dict[str, Any]]:
        async def load() -> list[dict[str, Any]]:
            return await self.store.read(repository.list_categories)

        items: list[dict[str, Any]] = await self.cache.get_or_load(CATEGORIES, "all", load)
        return items

    async def search(self, query: Query, limit: int, after: str | None = None) -> ProductPage:
        """One page of a search, ``next`` the cursor of the next."""
        position = Position.decode(after) if after else None
        key = _key("q", query.cache_key(), limit, after)
        items, after_last = await self._page(
            key, _search_page, self.money, query, limit, position, self.trigrams, self.words
        )
        return ProductPage(items, after_last)

    async def listing(
        self, category_id: int | None, available: Availability, limit: int, after: int | None
    ) -> tuple[list[Product], int | None]:
        """One page of products in id order (what a till loads when it starts), and
        the last id when more follow."""
        key = _key("l", category_id, available, limit, after)
        return await self._page(key, _list_page, self.money, category_id, available, limit, after)

    async def _page(
        self, key: str, compute: Callable[..., Any], *args: Any
    ) -> tuple[list[Product], Any]:
        """A cached page of ids with its products from the product cache, and where the
        next page starts; on a miss, the page and its products in one reader call
        (saving a round trip on cold pages)."""
        hits, ticket = await self.cache.get_many(SEARCH, [key])
        if key in hits:
            return await self._hydrate(hits[key])
        page, products = await self.store.read(compute, *args)
        await self.cache.put_many(SEARCH, ticket, {key: page})
        return [products[i] for i in page["ids"] if i in products], page["next"]

    async def _hydrate(self, page: dict[str, Any]) -> tuple[list[Product], Any]:
        products = await self.products(page["ids"])
        return [products[pid] for pid in page["ids"] if pid in products], page["next"]

    # -- writes ------------------------------------------------------------

    async def apply(self, fn: Callable[..., Change], *args: Any, **kwargs: Any) -> Change:
        """Run a service write in the writer's transaction, then drop what it touched."""
        change = await self.store.write(fn, *args, **kwargs)
        await self.forget(change.touched)
        self.applied.add(change.seq)
        return change

    async def forget(self, touched: Touched) -> None:
        """Drop exactly what ``touched`` names, in whichever cache this process uses."""
        if touched.all_products:
            await self.cache.invalidate(PRODUCT)
            await self.cache.invalidate(BARCODE)
        else:
            await self.cache.invalidate(PRODUCT, [str(p) for p in touched.products])
            await self.cache.invalidate(BARCODE, sorted(touched.barcodes))
        if touched.listings or touched.all_products:
            self.words_stale = True
            await self.cache.invalidate(SEARCH)
        if touched.categories:
            await self.cache.invalidate(CATEGORIES)
        if touched.everyone:
            await self.cache.invalidate(SESSION)
            await self.cache.invalidate(ACTOR)
        if touched.sessions:
            await self.cache.invalidate(SESSION, [str(s) for s in touched.sessions])
        if touched.users:
            await self.cache.invalidate(ACTOR, [str(u) for u in touched.users])

    async def warm(self, product_ids: list[int], chunk: int = 200) -> None:
        """(Re)load the categories, these products and their barcodes into the cache,
        refreshing their TTL so nothing hot expires between two rounds (not counted as
        hits or misses: nobody asked). Versions are read before the data, as for any
        load; chunks keep each step of a round short for the event loop."""
        _, ticket = await self.cache.get_many(CATEGORIES, ["all"], count=False)
        items = await self.store.read(repository.list_categories)
        await self.cache.put_many(CATEGORIES, ticket, {"all": items})
        for start in range(0, len(product_ids), chunk):
            ids = product_ids[start : start + chunk]
            codes = await self.store.read(_barcodes_of, ids)
            _, code_ticket = await self.cache.get_many(BARCODE, codes, count=False)
            _, ticket = await self.cache.get_many(PRODUCT, [str(i) for i in ids], count=False)
            loaded = await self.store.read(_products, self.money, ids)
            await self.cache.put_many(PRODUCT, ticket, loaded)
            # Only barcodes whose versions were read before the products were.
            known = set(codes)
            scanned = {p.barcode: p for p in loaded.values() if p.barcode in known}
            await self.cache.put_many(BARCODE, code_ticket, scanned)

    async def refresh_trigrams(self) -> None:
        """Re-read trigram frequencies; stale ones only make search a little slower."""
        self.trigrams = await self.store.read(TrigramStats.load)

    async def refresh_words(self) -> None:
        """Re-read the vocabulary typos are read against. Cached search pages were
        dropped with the change that made it stale; those computed meanwhile may
        miss a new word's typos until the next change drops them."""
        self.words_stale = False
        self.words = await self.store.read(Vocabulary.load)
        await self.cache.invalidate(SEARCH)


def _key(*parts: Any) -> str:
    """A short, fixed-length cache key for a page, whatever the query holds."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
