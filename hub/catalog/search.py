"""Product search for the till: ranked, accent- and case-blind, bounded, paginated.

A query is folded (``hub.catalog.folding``) and answered in rank buckets, best
first. Each bucket is read in an order an index already holds, so a page costs
a few index range scans or a few steps of an FTS5 cursor, never a sort of every
match (one ranked ``ORDER BY`` over all matches costs ~1.3 µs a match: 8 ms for
a fragment like "cho" in 50,000 products).

====  =========  =======================================  ====================
rank  bucket     what matches                             read in the order of
====  =========  =======================================  ====================
0     exact      barcode or internal reference equal      id
1     name       name starts with the query               ``name_key`` index
2     code       reference starts with the query          ``code_key`` index
3     barcode    barcode starts with the query            ``barcode`` index
4     word       a later word starts with the query       trigram index, rowid
5     contains   every word of the query found inside     trigram index, rowid
6     fuzzy      the same, with typos (``hub.catalog.fuzzy``)  cost, then rowid
====  =========  =======================================  ====================

Each bucket leaves out the rows of the buckets before it, so no product shows
twice. Buckets 4 and 5 ask the trigram index for a few rare trigrams of the
query (``hub.catalog.trigrams``) and keep the rows whose ``search_key`` really
holds the text (``instr``); ``search_key`` starts with a space, so
``' ' || q`` is a word start anywhere. One scan serves both (``_both``).
Trigrams need three
characters: a one-letter query is answered by buckets 0-3 (prefixes, over
indexes), a two-letter one also by bucket 4 (``' ' || q`` has three). A page
ends at a bucket and a position in it; the cursor carries both, so the next
page resumes with one index seek.

Bucket 6 is read only when the buckets before it hold fewer than
``FUZZY_BELOW`` products (``fuzzy="auto"``, what a till wants: a misspelling
that found nothing, not typo look-alikes after good answers), always after
them with ``fuzzy="always"``, never with ``"never"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

import sqlite_utils

from hub import list_cursor
from hub.catalog import fuzzy
from hub.catalog.folding import fold
from hub.catalog.trigrams import NO_STATS, WINDOW_CHARS, TrigramStats, phrase, probe
from hub.catalog.vocabulary import NO_WORDS, Vocabulary
from hub.errors import ValidationFailed

MAX_QUERY_CHARS = 100
MAX_TERMS = 8
FUZZY_BELOW = 3  # fewer exact matches than this, and a till shows typo matches after them
EXACT, NAME, CODE, BARCODE, WORD, CONTAINS, FUZZY = range(7)
# Sorts after every character a key can hold (UTF-8 F4 8F BF BF), so that
# ``key >= q AND key < q || TOP`` is "starts with q" as an index range.
_TOP = "\U0010ffff"

_FUZZY_KEY = re.compile(r"[0-9]{1,4}")  # the cost, ``hub.catalog.fuzzy``

Availability = Literal["yes", "no", "any"]
Fuzziness = Literal["auto", "always", "never"]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: rank bucket, the bucket's sort key, product id."""

    bucket: int
    key: str
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.bucket, self.key, self.id], separators=(",", ":"))
        return list_cursor.encode("search", raw)

    @classmethod
    def decode(cls, cursor: str) -> Position:
        """The position a cursor stands for; a forged or foreign cursor is a 422.

        Checked to the types a cursor of ours holds, ids within SQLite's
        integers: JSON can spell 1e400 or a 30-digit id. (Nesting deep enough
        to exhaust the parser does not fit in ``list_cursor.MAX_CURSOR``.)
        """
        value = list_cursor.decode_key("search", cursor) or ""
        try:
            bucket, key, pid = json.loads(value)
            if (
                type(bucket) is not int
                or bucket not in range(7)
                or (bucket == FUZZY and not _FUZZY_KEY.fullmatch(key))
                or not isinstance(key, str)
                or type(pid) is not int
                or not 0 <= pid < 2**63
            ):
                raise ValueError(cursor)
            return cls(bucket, key, pid)
        except (ValueError, TypeError) as exc:
            raise list_cursor.invalid_cursor() from exc


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search: the raw text (for barcodes), the folded text, the filters."""

    raw: str
    text: str
    category_id: int | None = None
    available: Availability = "yes"
    fuzzy: Fuzziness = "auto"

    @classmethod
    def parse(
        cls,
        q: str,
        category_id: int | None = None,
        available: Availability = "yes",
        fuzzy: Fuzziness = "auto",
    ) -> Query:
        """Fold ``q``; refuse only what no till sends (422), accept anything else.

        The API refuses more than ``MAX_QUERY_CHARS``; folding may lengthen a text
        (NFKD spells out ligatures and fractions), so the folded limit is looser."""
        if len(q) > MAX_QUERY_CHARS:
            raise _too_long()
        # Lone surrogates and control characters can be in no barcode, and a lone
        # surrogate cannot even be encoded to bind as an SQLite parameter.
        raw = "".join(ch for ch in q if ch.isprintable() and not "\ud800" <= ch <= "\udfff")
        text = fold(q)[: MAX_QUERY_CHARS * 4]
        return cls(raw.strip(), text, category_id, available, fuzzy)

    @property
    def terms(self) -> list[str]:
        """What bucket 5 looks for: each word of three letters or more inside, a
        two-letter word as a word start; distinct, longest first, at most MAX_TERMS."""
        words = sorted({w for w in self.text.split() if len(w) >= 2}, key=len, reverse=True)
        return [w if len(w) >= 3 else " " + w for w in words[:MAX_TERMS]]

    def cache_key(self) -> str:
        return json.dumps([self.text, self.raw, self.category_id, self.available, self.fuzzy])


def _too_long() -> ValidationFailed:
    return ValidationFailed(
        f"q must be at most {MAX_QUERY_CHARS} characters", {"fields": {"q": "too long"}}
    )


# Row conditions of the buckets, so that each later bucket leaves earlier rows out.
_IS = {
    EXACT: "(p.barcode = :raw OR p.code_key = :q)",
    NAME: "(p.name_key >= :q AND p.name_key < :q_top)",
    CODE: "(p.code_key >= :q AND p.code_key < :q_top)",
    BARCODE: "(p.barcode >= :raw AND p.barcode < :raw_top)",
    WORD: "instr(p.search_key, ' ' || :q) > 0",
}
# Per index bucket: its sort key, its order, and how to resume after a position.
_INDEXED = {
    EXACT: ("''", "p.id", "p.id > :after_id"),
    NAME: ("p.name_key", "p.name_key, p.id", "(p.name_key, p.id) > (:after_key, :after_id)"),
    CODE: ("p.code_key", "p.code_key, p.id", "(p.code_key, p.id) > (:after_key, :after_id)"),
    BARCODE: ("p.barcode", "p.barcode", "p.barcode > :after_key"),
}


def _contains(query: Query) -> str:
    """Bucket 5's condition (its terms bound as ``:t0``, ``:t1``, ...)."""
    terms = [f"instr(p.search_key, :t{i}) > 0" for i in range(len(query.terms))]
    return f"({' AND '.join(terms)})" if terms else "0"


def _not_earlier(bucket: int) -> str:
    """Rows of no earlier bucket (than WORD or CONTAINS). NULL-safe: a product without
    a barcode or reference makes ``barcode = :raw`` NULL, and ``NOT NULL`` would drop
    it from every bucket."""
    return " AND ".join(f"NOT COALESCE({_IS[b]}, 0)" for b in range(bucket)) or "1 = 1"


def _exact(query: Query) -> str:
    """Rows of any bucket before the fuzzy one."""
    conditions = [*(_IS[b] for b in range(CONTAINS)), _contains(query)]
    return " OR ".join(f"COALESCE({c}, 0)" for c in conditions)


def _filters(query: Query, params: dict[str, Any]) -> str:
    where = []
    if query.available == "yes":
        where.append("p.active = 1 AND p.sale_ok = 1")
    elif query.available == "no":
        where.append("NOT (p.active = 1 AND p.sale_ok = 1)")
    if query.category_id is not None:
        where.append("p.category_id = :category")
        params["category"] = query.category_id
    return " AND ".join(where) or "1 = 1"


def _indexed_sql(bucket: int, resume: bool) -> str:
    """Buckets 0-3: one index range, read in index order."""
    key, order, after = _INDEXED[bucket]
    where = [_IS[bucket], _not_earlier(bucket), "{filters}"]
    if resume:
        where.append(after)
    return (
        f"SELECT p.id, {key} FROM products p WHERE {' AND '.join(where)} "
        f"ORDER BY {order} LIMIT :limit"
    )


def _trigram_sql(
    buckets: tuple[int, ...], query: Query, params: dict[str, Any], stats: TrigramStats
) -> str:
    """Buckets 4 and/or 5 in rowid order: candidates from the trigram index, confirmed
    by ``instr``. For both buckets there is no LIMIT: the caller reads lazily."""
    q = query.text
    checks = []
    if buckets == (WORD,):
        # Every word of the query, space first, lies inside ' ' || q.
        words = [" " + w for w in dict.fromkeys(q.split())]
        match = probe([w for w in words if len(w) >= 3] or [" " + q], stats)
        checks.append(_IS[WORD])
    else:
        match = probe(query.terms, stats)
        if buckets == (CONTAINS,):
            checks.append(f"NOT {_IS[WORD]}")
            if len(q) < WINDOW_CHARS:
                # A short phrase is cheap for FTS5 to rule out before a row is read.
                match = f"({match}) NOT {phrase(' ' + q)}"
    if WORD in buckets and len(q) < WINDOW_CHARS:
        match = f"({match}) NOT ^{phrase(' ' + q)}"  # name starts: bucket 1
    checks.extend(f"instr(p.search_key, :t{i}) > 0" for i in range(len(query.terms)))
    params["match"] = match
    if len(buckets) == 1:
        bucket, limit = str(buckets[0]), " LIMIT :limit"
    else:
        bucket, limit = f"CASE WHEN {_IS[WORD]} THEN {WORD} ELSE {CONTAINS} END", ""
    where = ["product_search MATCH :match", *checks, _not_earlier(WORD), "{filters}"]
    if len(buckets) == 1 and params.get("after_bucket") == buckets[0]:
        where.append("s.rowid > :after_id")
    return (
        f"SELECT p.id, {bucket} FROM product_search s JOIN products p ON p.id = s.rowid "
        f"WHERE {' AND '.join(where)} ORDER BY s.rowid{limit}"
    )


def _passes(query: Query, after: Position | None) -> list[tuple[int, ...]]:
    """The queries a search makes from where ``after`` ended, each a tuple of buckets."""
    start = after.bucket if after else EXACT
    passes: list[tuple[int, ...]] = [(b,) for b in range(start, WORD) if b != BARCODE or query.raw]
    word = len(query.text) >= 2 and start <= WORD
    contains = any(len(t) >= 3 for t in query.terms) and start <= CONTAINS
    # A short query's word starts are an exact FTS5 phrase, cheap on their own; a
    # long one's need every candidate read, and that read can serve bucket 5 too.
    long = len(query.text) >= WINDOW_CHARS
    if word and contains and long and not (after and after.bucket == WORD):
        passes.append((WORD, CONTAINS))
    else:
        passes.extend([(WORD,)] if word else [])
        passes.extend([(CONTAINS,)] if contains else [])
    return passes


def _both(rows: Iterator[tuple[int, int]], wanted: int) -> list[tuple[int, Position]]:
    """Buckets 4 then 5 from one scan in rowid order.

    Stops as soon as ``wanted`` word starts are in hand; a scan that runs out
    first has met every bucket-5 row too, and keeps the first of those. Either
    way it reads no more rows than a bucket-4 pass alone would have.
    """
    words: list[tuple[int, Position]] = []
    others: list[tuple[int, Position]] = []
    for pid, bucket in rows:
        if bucket == WORD:
            words.append((pid, Position(WORD, "", pid)))
            if len(words) == wanted:
                return words
        elif len(others) < wanted:
            others.append((pid, Position(CONTAINS, "", pid)))
    return (words + others)[:wanted]


def search(
    db: sqlite_utils.Database,
    query: Query,
    limit: int,
    after: Position | None = None,
    stats: TrigramStats = NO_STATS,
    words: Vocabulary = NO_WORDS,
) -> list[tuple[int, Position]]:
    """Up to ``limit`` product ids, best first, each with the position it stands at.

    A query equal to a barcode or to a reference with a digit in it is an
    identifier, scanned or typed in full: its product answers alone. ``words``
    is the vocabulary typos are read against (without it, the fuzzy bucket only
    finds a query of several words across a word boundary).
    """
    if not query.text:
        return []
    params: dict[str, Any] = {
        "q": query.text,
        "q_top": query.text + _TOP,
        "raw": query.raw,
        "raw_top": query.raw + _TOP,
        **{f"t{i}": term for i, term in enumerate(query.terms)},
    }
    filters = _filters(query, params)
    if after is not None:
        params.update(after_bucket=after.bucket, after_key=after.key, after_id=after.id)
    found: list[tuple[int, Position]] = []
    for buckets in _passes(query, after):
        params["limit"] = wanted = limit - len(found)
        if buckets[0] < WORD:
            sql = _indexed_sql(buckets[0], after is not None and after.bucket == buckets[0])
            rows = db.execute(sql.replace("{filters}", filters), params).fetchall()
            found.extend((pid, Position(buckets[0], key, pid)) for pid, key in rows)
        else:
            sql = _trigram_sql(buckets, query, params, stats).replace("{filters}", filters)
            cursor = db.execute(sql, params)
            if len(buckets) > 1:
                found.extend(_both(iter(cursor), wanted))
            else:
                found.extend((pid, Position(buckets[0], "", pid)) for pid, _ in cursor)
        if len(found) >= limit or (buckets == (EXACT,) and found and _identifier(query.text)):
            return found
    if not _fuzzy_wanted(db, query, found, after, stats):
        return found
    plan = fuzzy.Plan.of(query.text, words)
    if plan is None:
        return found
    sql = (
        # Keys not yet folded read as search_key reads them (``hub.db.migrations``).
        "SELECT p.id, COALESCE(p.name_key, lower(p.name)), "
        "COALESCE(p.code_key, lower(p.default_code)) FROM product_search s "
        "JOIN products p ON p.id = s.rowid WHERE product_search MATCH :fuzzy_match "
        f"AND s.rowid > :fuzzy_after AND {filters} ORDER BY s.rowid"
    )

    def earlier(ids: list[int]) -> set[int]:
        rows = db.execute(
            "SELECT p.id FROM products p WHERE p.id IN (SELECT value FROM json_each(:ids)) "
            f"AND ({_exact(query)})",
            {**params, "ids": json.dumps(ids)},
        )
        return {r[0] for r in rows}

    resume = (int(after.key), after.id) if after is not None and after.bucket == FUZZY else None
    ranks = fuzzy.read(db, plan, limit - len(found), sql, params, stats, resume, earlier)
    found.extend((pid, Position(FUZZY, str(cost), pid)) for cost, pid in ranks)
    return found


def _fuzzy_wanted(
    db: sqlite_utils.Database,
    query: Query,
    found: list[tuple[int, Position]],
    after: Position | None,
    stats: TrigramStats,
) -> bool:
    """Whether the fuzzy bucket follows: asked for, or too few exact matches (counted
    afresh when this page started inside the exact buckets, which earlier pages read)."""
    if query.fuzzy != "auto" or (after is not None and after.bucket == FUZZY):
        return query.fuzzy != "never"
    if after is None:
        return len(found) < FUZZY_BELOW
    exact = replace(query, fuzzy="never")
    return len(search(db, exact, FUZZY_BELOW, None, stats)) < FUZZY_BELOW


def _identifier(text: str) -> bool:
    return " " not in text and any(ch.isdigit() for ch in text)
