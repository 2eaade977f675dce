"""Typo-tolerant search: misspellings find their product, near misses find nothing wrong."""

from __future__ import annotations

import functools
import itertools
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from bench.misspell import misspell, osa
from hub.catalog.folding import fold
from hub.catalog.search import FUZZY, FUZZY_BELOW, Position, Query, search
from hub.catalog.trigrams import NO_STATS, TrigramStats
from hub.catalog.vocabulary import MAX_PAIR, MIN_ENTRY, Vocabulary, budget
from tests.catalog.conftest import catalogue_db


class Catalogue:
    """A read-only catalogue with what search reads beside it: statistics, vocabulary."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
        self.stats = TrigramStats.load(self.db)
        self.words = Vocabulary.load(self.db)
        self.names = dict(self.db.execute("SELECT id, name FROM products").fetchall())

    def ids(self, q: str, limit: int = 20, **options: object) -> list[int]:
        query = Query.parse(q, **options)  # type: ignore[arg-type]
        return [pid for pid, _ in search(self.db, query, limit, None, self.stats, self.words)]

    def found(self, q: str, limit: int = 20, **options: object) -> list[str]:
        return [self.names[pid] for pid in self.ids(q, limit, **options)]


def _open(path: Path) -> Iterator[Catalogue]:
    catalogue = Catalogue(path)
    yield catalogue
    catalogue.db.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    yield from _open(catalogue_db(tmp_path_factory.mktemp("demo") / "edgehub.db", 0))


@pytest.fixture(scope="module")
def sample(sample_db: Path) -> Iterator[Catalogue]:
    yield from _open(sample_db)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    """The demo store and 50,000 generated products (~6 s to build)."""
    yield from _open(catalogue_db(tmp_path_factory.mktemp("large") / "edgehub.db", 50_000))


# What a cashier types on the demo store, and the product meant.
DEMO_MISSPELLINGS = [
    ("capuccino", "Cappuccino"),  # dropped letter
    ("cappucino", "Cappuccino"),
    ("cheeseburgr", "Cheeseburger"),
    ("expresso", "Espresso"),  # wrong letter
    ("chese", "Cheeseburger"),  # a dropped letter in a half-typed word
    ("cheesecak", "Cheesecake"),
    ("lemonnade", "Lemonade"),  # doubled letter
    ("coleslaww", "Coleslaw"),
    ("brwonie", "Chocolate Brownie"),  # swapped letters
    ("gazpahco", "Gazpacho"),
    ("halloumi grilled", "Grilled Halloumi"),  # words in another order: exact
    ("hallomi", "Grilled Halloumi"),
    ("lemonede", "Lemonade"),  # wrong vowel
    ("quinoa bowwl", "Quinoa Bowl"),
    ("icecream", "Ice Cream (2 scoops)"),  # missing space
    ("applepie", "Apple Pie"),
    ("creme brulee", "Crème Brûlée"),  # accents
    ("crème brûle", "Crème Brûlée"),
    ("jalapeno burgr", "Jalapeño Burger"),
    ("cafe latte", "Café Latte"),
    ("ce c", "Ice Cream (2 scoops)"),  # across a word boundary
    ("ed tea", "Iced Tea"),
    ("sparkling watter", "Sparkling Water"),
    ("fresh orang juice", "Fresh Orange Juice"),
    ("chiken wings", "Chicken Wings (8)"),
]

# Near misses: nothing on the demo store is meant, so nothing may be offered.
DEMO_NEAR_MISSES = [
    "pizza",
    "sushi",
    "tacos",
    "kebab",
    "ramen",
    "bagel",
    "donut",
    "mojito",
    "vodka",
    "whisky",
    "nachos",
    "bear",  # four letters: no typo allowed (Beer is a different word)
    "ica",
    "frise",  # a typo of Fries, but also of nothing: five letters, one typo...
]


@pytest.mark.parametrize(("q", "meant"), DEMO_MISSPELLINGS)
def test_demo_misspelling_finds_its_product_in_the_top_three(
    demo: Catalogue, q: str, meant: str
) -> None:
    """What a cashier mistypes on the demo store still puts the product within reach."""
    assert meant in demo.found(q)[:3], demo.found(q)


def test_demo_near_misses_offer_nothing_unrelated(demo: Catalogue) -> None:
    """A dish the store does not sell finds nothing, instead of something that looks alike."""
    offered = {q: demo.found(q) for q in DEMO_NEAR_MISSES if q != "frise"}
    assert offered == {q: [] for q in offered}
    # 'frise' is one typo from 'fries' and from nothing else the store sells.
    assert set(demo.found("frise")) == {"Fries", "Sweet Potato Fries"}


def test_a_barcode_off_by_one_digit_is_not_its_product(demo: Catalogue) -> None:
    """A mistyped barcode is another product or none: never a look-alike guess."""
    barcode = demo.db.execute("SELECT barcode FROM products WHERE name = 'Cappuccino'").fetchone()[
        0
    ]
    wrong = barcode[:-2] + str((int(barcode[-2]) + 1) % 10) + barcode[-1]
    assert demo.found(wrong, fuzzy="always") == []
    assert demo.found("d0111", fuzzy="always") == []  # a reference with a digit too many


def test_exact_and_prefix_matches_rank_above_fuzzy_ones(sample: Catalogue) -> None:
    """Asked for everything, exact buckets come first and typo matches after them."""
    query = Query.parse("frite", fuzzy="always")
    found = search(sample.db, query, 500, None, sample.stats, sample.words)
    ranks = [pos.bucket for _, pos in found]
    assert ranks == sorted(ranks) and ranks[0] == 1 and ranks[-1] == FUZZY
    costs = [int(pos.key) for _, pos in found if pos.bucket == FUZZY]
    assert costs == sorted(costs)


def test_fuzzy_matches_stay_out_when_exact_ones_are_enough(sample: Catalogue) -> None:
    """A till is not shown typo look-alikes after enough good answers, unless it asks."""
    exact = sample.ids("frite", 500, fuzzy="never")
    assert len(exact) >= FUZZY_BELOW
    assert sample.ids("frite", 500) == exact
    assert len(sample.ids("frite", 500, fuzzy="always")) > len(exact)
    assert sample.ids("capuccino", fuzzy="never") == []


@pytest.mark.parametrize("q", ["capuccino", "chese", "ce c", "frite", "vanile"])
def test_fuzzy_pages_join_up_without_gaps_or_repeats(sample: Catalogue, q: str) -> None:
    """Walking the cursor through exact and fuzzy buckets yields the one-page answer."""
    query = Query.parse(q, fuzzy="always")
    whole = [pid for pid, _ in search(sample.db, query, 100_000, None, sample.stats, sample.words)]
    walked: list[int] = []
    after: Position | None = None
    while True:
        page = search(sample.db, query, 6, after, sample.stats, sample.words)
        walked += [pid for pid, _ in page[:5]]
        if len(page) <= 5:
            break
        after = Position.decode(page[4][1].encode())
    assert walked == whole and len(set(walked)) == len(walked)
    assert any(pos.bucket == FUZZY for _, pos in search(sample.db, query, 100_000, None,
                                                        sample.stats, sample.words))  # fmt: skip


# -- the fuzzy bucket computed the slow way ---------------------------------------------


@functools.cache
def _token_cost(word: str, token: str) -> int:
    """Two per typo against a whole word, plus one against the start of one (0: no match)."""
    if len(token) < MIN_ENTRY or any(c.isdigit() for c in token):
        return 0
    costs = [2 * osa(word, token), *(2 * osa(word, token[:n]) + 1 for n in range(3, len(token)))]
    costs = [c for c in costs if 0 < c <= 2 * budget(word) + 1]
    return min(costs, default=0)


@functools.cache
def _pair_cost(word: str, a: str, b: str) -> int:
    """Two per typo against two adjacent words written together, the dropped space one."""
    if any(c.isdigit() for c in a + b) or len(a) + len(b) > MAX_PAIR:
        return 0
    cost = 2 * (osa(word, a + b) + 1)
    return cost if cost <= 2 * budget(word) else 0


def _word_cost(word: str, last: bool, text: str, known: set[str]) -> int | None:
    """Cost of one query word in a product's `` name code `` text: 0 as typed (a short
    word whole, or starting a word if it is the last), else the cheapest of the
    text's words or pairs of words; None when nothing is within its budget."""
    if len(word) >= 3 and word in text:
        return 0
    if len(word) < 3 and (f" {word}" if last else f" {word} ") in text:
        return 0
    if not budget(word) or word in known:
        return None
    tokens = text.split()
    costs = [_token_cost(word, t) for t in tokens]
    costs += [_pair_cost(word, a, b) for a, b in itertools.pairwise(tokens)]
    return min((c for c in costs if c), default=None)


def _brute_fuzzy(catalogue: Catalogue, q: str, exact: list[int]) -> list[int]:
    text = Query.parse(q).text
    typed = text.split()
    words = list(dict.fromkeys(typed))
    known = set(catalogue.words.words)
    ranked = []
    for pid, name_key, code_key in catalogue.db.execute(
        "SELECT id, name_key, code_key FROM products WHERE active = 1 AND sale_ok = 1"
    ).fetchall():
        if pid in exact:
            continue
        full = f" {name_key} {code_key or ''} "
        if len(typed) > 1 and text in full:
            ranked.append((0, pid))
            continue
        costs = [_word_cost(w, w == typed[-1], full, known) for w in words]
        if words and None not in costs:
            ranked.append((sum(c for c in costs if c is not None), pid))
    return [pid for _, pid in sorted(ranked)]


def test_fuzzy_bucket_agrees_with_a_brute_force_ranking(sample: Catalogue) -> None:
    """The fast path (vocabulary, trigram probes, classes) ranks as the definition says."""
    rng = random.Random(12)
    names = [n for (n,) in sample.db.execute("SELECT name_key FROM products ORDER BY id")]
    queries = ["capuccino", "chese", "ce c", "frmage bio", "icecream", "pistahce", "lattte"]
    queries += [misspell(rng.choice(names), rng)[1] for _ in range(20)]
    for q in queries:
        exact = sample.ids(q, 100_000, fuzzy="never")
        want = exact + _brute_fuzzy(sample, q, exact)
        for stats in (sample.stats, NO_STATS):
            query = Query.parse(q, fuzzy="always")
            got = search(sample.db, query, len(want) + 1, None, stats, sample.words)
            assert [pid for pid, _ in got] == want, q


# -- 50,000 generated products ----------------------------------------------------------


def _distinct_names(catalogue: Catalogue, count: int) -> list[tuple[int, str]]:
    """Products whose folded name is no other's name with something added: a query of it
    names that product, not a family."""
    rows = catalogue.db.execute(
        "SELECT id, name_key FROM products WHERE active = 1 AND sale_ok = 1 ORDER BY id"
    ).fetchall()
    keys = sorted(k for _, k in rows)
    longer = {a for a, b in itertools.pairwise(keys) if b.startswith(a + " ")}
    rng = random.Random(21)
    return rng.sample([(pid, k) for pid, k in rows if k not in longer], count)


def test_misspelt_generated_names_find_their_product_in_the_top_three(large: Catalogue) -> None:
    """Among 50,000 products, each kind of typo in a name still finds that product."""
    rng = random.Random(5)
    missed = []
    kinds: dict[str, int] = {}
    for pid, name in _distinct_names(large, 120):
        kind, typed = misspell(name, rng)
        kinds[kind] = kinds.get(kind, 0) + 1
        if pid not in large.ids(typed, 3):
            missed.append((typed, large.names[pid], large.found(typed, 3)))
    assert missed == []
    assert {"doubled", "dropped", "swapped", "wrong vowel", "missing space", "accent"} <= set(kinds)


LARGE_MISSPELLINGS = [
    ("capuccino vanille", "Cappuccino Vanille"),
    ("expresso", "Espresso"),
    ("cheeseburgr", "Cheeseburger"),
    ("chese", "Cheese"),  # the whole word Cheese now beats the start of Cheeseburger
    ("icecream", "Ice Cream (2 scoops)"),
    ("crème brulé", "Crème Brûlée"),
]


@pytest.mark.parametrize(("q", "meant"), LARGE_MISSPELLINGS)
def test_demo_misspellings_among_50000_products(large: Catalogue, q: str, meant: str) -> None:
    """The demo's typos still find the product meant, or one of that name, in the top 3."""
    assert all(fold(meant) in fold(n) for n in large.found(q, 3)), large.found(q, 3)


LARGE_NEAR_MISSES = ["pizza", "sushi", "kebab", "ramen", "whisky", "burrito", "hotdog", "mojito"]


def test_near_misses_among_50000_products_find_nothing(large: Catalogue) -> None:
    """Fifty thousand names hold many look-alike letters; a dish not sold still finds none."""
    assert {q: large.found(q) for q in LARGE_NEAR_MISSES} == {q: [] for q in LARGE_NEAR_MISSES}
