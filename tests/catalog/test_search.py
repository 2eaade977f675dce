"""Search relevance and pagination at the service layer, on a real SQLite catalogue."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from hub import list_cursor
from hub.catalog.folding import fold
from hub.catalog.search import Position, Query, search
from hub.catalog.trigrams import NO_STATS, TrigramStats
from hub.errors import ValidationFailed

FULLWIDTH_BURGER = "".join(chr(ord(c) + 0xFEE0) for c in "burger")  # what some IMEs type


@pytest.fixture(scope="module")
def db(sample_db: Path) -> Iterator[sqlite_utils.Database]:
    conn = sqlite3.connect(f"file:{sample_db}?mode=ro", uri=True)
    yield sqlite_utils.Database(conn)
    conn.close()


@pytest.fixture(scope="module")
def stats(db: sqlite_utils.Database) -> TrigramStats:
    return TrigramStats.load(db)


def names(db: sqlite_utils.Database, q: str, limit: int = 20, **filters: object) -> list[str]:
    found = search(db, Query.parse(q, **filters), limit)  # type: ignore[arg-type]
    by_id = dict(db.execute("SELECT id, name FROM products").fetchall())
    return [by_id[pid] for pid, _ in found]


def buckets(db: sqlite_utils.Database, q: str, limit: int = 50) -> list[int]:
    return [pos.bucket for _, pos in search(db, Query.parse(q), limit)]


def test_full_barcode_finds_exactly_its_product(db: sqlite_utils.Database) -> None:
    """A scanned or typed barcode answers with that product alone, not with look-alikes."""
    assert names(db, "2000000000039") == ["Jalapeño Burger"]


def test_reference_finds_its_product_first(db: sqlite_utils.Database) -> None:
    """An internal reference typed in any case is an exact match."""
    assert names(db, "d003") == ["Jalapeño Burger"]


def test_reference_prefix_lists_references_in_order(db: sqlite_utils.Database) -> None:
    """Typing the start of a reference lists those references in their own order."""
    rows = db.execute(
        "SELECT default_code FROM products WHERE default_code LIKE 'VIN-000%' ORDER BY 1 LIMIT 5"
    ).fetchall()
    found = search(db, Query.parse("vin-000"), 5)
    codes = [
        db.execute("SELECT default_code FROM products WHERE id = ?", (pid,)).fetchone()[0]
        for pid, _ in found
    ]
    assert codes == [r[0] for r in rows]


def test_substring_in_the_middle_of_a_word(db: sqlite_utils.Database) -> None:
    """'eesebur' finds Cheeseburger: a till user remembers a piece, not the start."""
    assert "Cheeseburger" in names(db, "eesebur")


def test_accents_and_case_do_not_matter(db: sqlite_utils.Database) -> None:
    """JALAPENO, jalapeño and Jalapeño all find the same products in the same order."""
    plain = names(db, "JALAPENO")
    assert "Jalapeño Burger" in plain
    assert names(db, "jalapeño") == plain == names(db, "Jalapeño")


def test_accented_query_finds_unaccented_name(db: sqlite_utils.Database) -> None:
    """Extra accents in the query are folded away too."""
    assert names(db, "Cáppüccino")[0].startswith("Cappuccino")


def test_name_start_ranks_before_word_start_before_inside(db: sqlite_utils.Database) -> None:
    """'burger': name starts, then later word starts, then inside a word (Cheeseburger)."""
    ranks = buckets(db, "burger", 500)
    assert ranks == sorted(ranks)
    found = names(db, "burger", 500)
    assert found.index("Classic Burger") < found.index("Cheeseburger")
    assert all(fold(n).startswith("burger") for n in found[: ranks.count(1)])


def test_three_letter_fragment(db: sqlite_utils.Database) -> None:
    """A three-letter fragment ('ppu') uses the trigram index and finds Cappuccino."""
    assert any(n.startswith("Cappuccino") for n in names(db, "ppu", 50))


def test_one_letter_lists_names_starting_with_it(db: sqlite_utils.Database) -> None:
    """One letter cannot use trigrams: names starting with it come first, alphabetically."""
    found = names(db, "c", 20)
    assert found and all(fold(n).startswith("c") for n in found)
    assert [fold(n) for n in found] == sorted(fold(n) for n in found)


def test_two_letters_find_word_starts_too(db: sqlite_utils.Database) -> None:
    """Two letters also find a later word starting with them ('Classic Burger' for 'bu')."""
    found = names(db, "bu", 500)
    assert "Classic Burger" in found
    assert all(
        fold(n).startswith("bu") or " bu" in " " + fold(n) for n in found if n != "Cheeseburger"
    )


def test_every_word_must_match_in_any_order(db: sqlite_utils.Database) -> None:
    """'burger classic' finds 'Classic Burger': words, not one phrase."""
    assert "Classic Burger" in names(db, "burger classic")


def test_category_filter(db: sqlite_utils.Database) -> None:
    """category_id keeps only that category's products."""
    drinks = db.execute("SELECT id FROM categories WHERE name = 'Drinks'").fetchone()[0]
    found = search(db, Query.parse("e", category_id=drinks), 100)
    assert found
    for pid, _ in found:
        row = db.execute("SELECT category_id FROM products WHERE id = ?", (pid,)).fetchone()
        assert row[0] == drinks


def test_unavailable_products_are_left_out_unless_asked(tmp_path: Path) -> None:
    """An archived product is not offered to a till, but a manager can still find it."""
    from hub.db.connection import immediate
    from hub.demo import load_demo
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "e.db")
    from hub.db.connection import open_db
    from hub.db.migrations import migrate

    db = open_db(settings)
    migrate(db)
    with immediate(db):
        load_demo(db, pin_iterations=settings.auth.pin_hash_iterations)
        db.execute("UPDATE products SET active = 0 WHERE name = 'Gazpacho'")
    assert search(db, Query.parse("gazpacho"), 10) == []
    assert len(search(db, Query.parse("gazpacho", available="no"), 10)) == 1
    assert len(search(db, Query.parse("gazpacho", available="any"), 10)) == 1


@pytest.mark.parametrize("q", ["burger", "c", "ca", "bio", "ère", "vin-0", "300", "miel lav"])
def test_pages_join_up_without_gaps_or_repeats(db: sqlite_utils.Database, q: str) -> None:
    """Walking the cursor page by page yields exactly the one-page answer."""
    query = Query.parse(q)
    whole = [pid for pid, _ in search(db, query, 100_000)]
    walked: list[int] = []
    after: Position | None = None
    while True:
        page = search(db, query, 8, after)
        walked += [pid for pid, _ in page[:7]]
        if len(page) <= 7:
            break
        after = Position.decode(page[6][1].encode())
    assert walked == whole[: len(walked)] and len(walked) == len(whole)
    assert len(set(walked)) == len(walked)


def _reference(db: sqlite_utils.Database, query: Query) -> list[int]:
    """The ranking API.md asks for, computed the slow way over every product."""
    q, raw, terms = query.text, query.raw, query.terms
    ranked = []
    for pid, nk, ck, bc, sk in db.execute(
        "SELECT id, name_key, code_key, barcode, search_key FROM products "
        "WHERE active = 1 AND sale_ok = 1"
    ).fetchall():
        if bc == raw or ck == q:
            key: tuple[object, ...] = (0, pid)
        elif nk.startswith(q):
            key = (1, nk, pid)
        elif ck and ck.startswith(q):
            key = (2, ck, pid)
        elif raw and bc and bc.startswith(raw):
            key = (3, bc)
        elif len(q) >= 2 and " " + q in sk:
            key = (4, pid)
        elif any(len(t) >= 3 for t in terms) and all(t in sk for t in terms):
            key = (5, pid)
        else:
            continue
        ranked.append((key, pid))
    ranked.sort()
    if ranked and ranked[0][0][0] == 0 and " " not in q and any(c.isdigit() for c in q):
        return [pid for key, pid in ranked if key[0] == 0]
    return [pid for _, pid in ranked]


def _till_queries(db: sqlite_utils.Database, count: int) -> list[str]:
    rng = random.Random(5)
    rows = db.execute("SELECT name, barcode, default_code FROM products").fetchall()
    out = []
    for _ in range(count):
        name, barcode, code = rng.choice(rows)
        word = rng.choice(name.split())
        out.append(
            rng.choice(
                [
                    word[:3],
                    word[1:5],
                    name,
                    " ".join(name.split()[:2]),
                    barcode,
                    barcode[-5:],
                    code,
                    code[:5],
                    word[:1],
                    word[:2],
                ]
            )
        )
    return out


def test_search_agrees_with_a_brute_force_ranking(
    db: sqlite_utils.Database, stats: TrigramStats
) -> None:
    """Every fast path gives exactly the ranking computed the slow way, with or without stats."""
    for q in ["plat", "p", "pl", "jour n", "creme", "du jour", "d003", *_till_queries(db, 60)]:
        query = Query.parse(q)
        want = _reference(db, query)
        for trigrams in (stats, NO_STATS):
            got = [pid for pid, _ in search(db, query, len(want) + 1, None, trigrams)]
            assert got == want, q


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        "*",
        "NEAR(",
        "NEAR(a b, 2)",
        "a OR b",
        "NOT burger",
        "^burger",
        "burger*",
        "{name}: x",
        "'; DROP TABLE products; --",
        "%",
        "_",
        "\\",
        "a\x00b",
        "\x1b[31m",
        "\ud800",
        "ab\udfffcd",
        "\u200b\u200b",
        "🍔 burger",
        FULLWIDTH_BURGER,
        " " * 50,
    ],
)
def test_hostile_queries_are_data_not_syntax(db: sqlite_utils.Database, q: str) -> None:
    """FTS5 operators, SQL, control characters and lone surrogates are searched as plain text."""
    result = search(db, Query.parse(q), 20)
    assert isinstance(result, list)


def test_fullwidth_letters_fold_to_plain(db: sqlite_utils.Database) -> None:
    """Full-width letters (some Asian keyboards) find the plain-letter names."""
    assert names(db, FULLWIDTH_BURGER) == names(db, "burger")


def test_overlong_query_is_refused() -> None:
    """A query longer than any product name is a client error, not work for the database."""
    with pytest.raises(ValidationFailed):
        Query.parse("x" * 10_000)


def test_forged_cursor_is_refused() -> None:
    """A cursor the search did not give out is a 422, whatever it decodes to."""
    forged = [
        list_cursor.encode("search", raw)
        for raw in ("[1,\"a\",1e400]", "[1,\"a\",100000000000000000000000]", "[" * 100_000,
                    "[1.5,\"a\",1]", "[true,\"a\",1]", "[1,\"a\",-1]", "[1,2,3]")
    ]  # fmt: skip
    cursors = ["nope", "eyJhIjoxfQ", Position(1, "k", 5).encode()[:-3] + "!!!", "W10", *forged]
    for cursor in cursors:
        with pytest.raises(ValidationFailed):
            Position.decode(cursor)
    assert Position.decode(Position(1, "k", 5).encode()) == Position(1, "k", 5)
