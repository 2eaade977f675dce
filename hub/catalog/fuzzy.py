"""The fuzzy bucket of search: products the query names with a typo, best first.

It comes after every exact bucket of ``hub.catalog.search`` and leaves their
rows out. A product is in it when every word of the query is found in its
folded name or reference, each either as typed or as a
variant within the word's typo budget (``hub.catalog.vocabulary``: 1 typo from
5 letters, 2 from 9, none in a word with a digit), or when the whole query,
spaces included, is found there ("ce c" inside "ice cream": a query across a
word boundary). Barcodes are never matched fuzzily: a variant is confirmed on
the name and reference only.

Rank is the cost of the cheapest reading (``Variant.cost``, summed over the
words; 0 for the whole query found as typed), then the id. Each cost is one
class, read in rowid order from the trigram index like buckets 4 and 5, so a
page stops once it is full, however many products a common word's typo
matches: candidates come from the rare trigrams of the readings
(``hub.catalog.trigrams.probe``), and Python computes each one's cost from its
name and reference and keeps those of the class being read. (Ordering a class
by anything else, such as the length of the name, means sorting every
candidate: 9 ms for a typo of "originale", held by 4,000 of 50,000 products.)

A word of one or two characters is a whole word ("lait entier 1 l": "1"), or
the start of one when it is the last word, still being typed. A word that is
itself a word of the catalogue gets no variants: it was typed as meant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from hub.catalog.trigrams import MAX_PROBES, TrigramStats, probe
from hub.catalog.vocabulary import Variant, Vocabulary, budget

MAX_VARIANTS = 64  # per word: the cheapest; a longer OR only reads more doclists
FEW = 64  # candidates of every class together that are ranked in one read


@dataclass(frozen=True, slots=True)
class Plan:
    """What the fuzzy bucket looks for: the whole query, and each word's readings."""

    phrase: str | None  # a query of several words, found whole: cost 0
    words: tuple[tuple[Variant, ...], ...]  # per word: as typed (cost 0) first

    @classmethod
    def of(cls, text: str, vocabulary: Vocabulary) -> Plan | None:
        """The plan for a folded query, or None when no product can be in the bucket."""
        if len(text) < 3:
            return None
        typed = text.split()
        words = []
        typo = False
        for word in dict.fromkeys(typed):
            if len(word) >= 3:
                readings = [Variant(word, 0)]
            else:
                readings = [Variant(f" {word}" if word == typed[-1] else f" {word} ", 0)]
            if word not in vocabulary.words:
                found = vocabulary.variants(word, budget(word))[:MAX_VARIANTS]
                readings.extend(found)
                typo = typo or bool(found)
            words.append(tuple(readings))
        # Found whole, the query holds every word as bucket 5 looks for it, unless
        # its first word is short and inside a longer one: "ce c" in "ice cream".
        phrase = text if len(typed) > 1 and len(typed[0]) <= 2 else None
        if not typo and phrase is None:
            return None
        return cls(phrase, tuple(words))

    def costs(self) -> list[int]:
        """Every class a product can fall in, cheapest first (0: the whole query)."""
        sums = {0}
        for readings in self.words:
            sums = {s + v.cost for s in sums for v in readings}
        sums.discard(0)  # every word as typed: bucket 5 (or earlier), not this one
        return sorted(sums | ({0} if self.phrase else set()))

    def cost(self, text: str) -> int | None:
        """The class of a product whose ``' ' + name_key + ' ' + code_key`` is ``text``."""
        if self.phrase is not None and self.phrase in text:
            return 0
        total = 0
        for readings in self.words:
            costs = [v.cost for v in readings if v.text in text]
            if not costs:
                return None
            total += min(costs)
        return total

    def match(self, cost: int, stats: TrigramStats) -> str:
        """An FTS5 expression finding every product of class ``cost`` (and some of
        other classes or of none, which ``cost()`` then tells apart)."""
        whole = probe([self.phrase], stats) if self.phrase is not None else None
        if cost == 0 and whole is not None:
            return whole
        parts: list[tuple[int, str]] = []
        for readings in self.words:
            texts = [_probed(v.text) for v in readings if v.cost <= cost]
            if all(texts):
                texts = _covering(texts)
                reach = sum(_reach(t, stats) for t in texts)
                parts.append((reach, " OR ".join(probe([t], stats) for t in texts)))
        # The most selective words narrow the candidates; more only read more doclists.
        parts.sort(key=lambda part: part[0])
        words = " AND ".join(f"({p})" for _, p in parts[:MAX_PROBES])
        return f"({whole}) OR ({words})" if whole and words else whole or words


def _reach(text: str, stats: TrigramStats) -> int:
    """At most how many products hold ``text`` (its rarest trigram's), or, without
    statistics, a smaller number for a longer text."""
    if not stats.total:
        return -len(text)
    return min(stats.reach(text[i : i + 3]) for i in range(len(text) - 2))


def _probed(text: str) -> str:
    """What to ask the index for: a whole word ends in a space, which the index holds
    after a name but not after the last reference, so it is left out where the rest
    still makes a trigram; "" for a word too short to probe (``cost()`` checks it)."""
    stripped = text.rstrip()
    return stripped if len(stripped) >= 3 else text if len(text) >= 3 else ""


def _covering(texts: list[str]) -> list[str]:
    """The texts no shorter one of them lies inside: finding those finds them all."""
    kept: list[str] = []
    for text in sorted(set(texts), key=len):
        if not any(k in text for k in kept):
            kept.append(text)
    return kept


def read(
    db: sqlite_utils.Database,
    plan: Plan,
    wanted: int,
    sql: str,
    params: dict[str, Any],
    stats: TrigramStats,
    after: tuple[int, int] | None,
    earlier: Callable[[list[int]], set[int]],
) -> list[tuple[int, int]]:
    """Up to ``wanted`` (cost, product id), best first, after ``after``. ``sql``
    selects id, name_key, code_key of candidates matching ``:fuzzy_match`` in
    rowid order, from ``:fuzzy_after`` on; ``earlier(ids)`` names those of them
    in an earlier bucket, asked only of the few this bucket would keep (asking
    SQLite of every candidate doubles the cost of a read).

    First one read of every class's candidates: when they are ``FEW`` (a misspelt
    whole name), ranking them here saves a read per class. Else class by class."""
    costs = [c for c in plan.costs() if after is None or c >= after[0]]
    if not costs:
        return []
    params["fuzzy_match"], params["fuzzy_after"] = plan.match(costs[-1], stats), 0
    rows = db.execute(sql, params).fetchmany(FEW + 1)
    if len(rows) <= FEW:
        ranked = sorted((c, pid) for pid, *keys in rows if (c := _cost(plan, *keys)) in costs)
        ranked = [rank for rank in ranked if after is None or rank > after]
        gone = earlier([pid for _, pid in ranked])
        return [rank for rank in ranked if rank[1] not in gone][:wanted]
    found: list[tuple[int, int]] = []
    for cost in costs:
        params["fuzzy_match"] = plan.match(cost, stats)
        params["fuzzy_after"] = after[1] if after is not None and cost == after[0] else 0
        pending: list[int] = []
        for pid, name_key, code_key in db.execute(sql, params):
            if _cost(plan, name_key, code_key) == cost:
                pending.append(pid)
                if len(found) + len(pending) == wanted:
                    found += _kept(cost, pending, earlier)
                    pending = []
                    if len(found) == wanted:
                        return found
        found += _kept(cost, pending, earlier)
    return found


def _kept(
    cost: int, ids: list[int], earlier: Callable[[list[int]], set[int]]
) -> list[tuple[int, int]]:
    gone = earlier(ids) if ids else set()
    return [(cost, pid) for pid in ids if pid not in gone]


def _cost(plan: Plan, name_key: str, code_key: str | None) -> int | None:
    return plan.cost(f" {name_key} {code_key or ''} ")
