"""The fuzzy bucket of search: products the query names with a typo, best first.

It comes after every exact bucket of ``hub.catalog.search`` and leaves their
rows out. A product is in it when every word of the query (of two letters or
more) is found in its folded name or reference, each either as typed or as a
variant within the word's typo budget (``hub.catalog.vocabulary``: 1 typo from
5 letters, 2 from 9, none in a word with a digit), or when the whole query,
spaces included, is found there ("ce c" inside "ice cream": a query across a
word boundary). Barcodes are never matched fuzzily: a variant is confirmed on
the name and reference only.

Rank is the cost of the cheapest reading (``Variant.cost``, summed over the
words; 0 for the whole query found as typed), then the length of the name
(of two products holding every word, the shorter holds least else: "Lait
Entier 1 L" before "Lait Entier 125 g"), then the id. Each cost is one class,
read in that order, so a page stops once it is full: candidates come from the
rare trigrams of the variants (``hub.catalog.trigrams.probe``), SQLite sorts
them, and Python computes each one's cost from its name and reference and keeps
those of the class being read.
A word that is itself a word of the catalogue gets no variants: it was typed
as meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from hub.catalog.trigrams import TrigramStats, probe
from hub.catalog.vocabulary import Variant, Vocabulary, budget

MAX_VARIANTS = 64  # per word: the cheapest; a longer OR only reads more doclists


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
        words = []
        typo = False
        for word in dict.fromkeys(text.split()):
            if len(word) < 2:
                continue
            readings = [Variant(word if len(word) >= 3 else " " + word, 0)]
            if word not in vocabulary.words:
                found = vocabulary.variants(word, budget(word))[:MAX_VARIANTS]
                readings.extend(found)
                typo = typo or bool(found)
            words.append(tuple(readings))
        phrase = text if " " in text else None
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
        """An FTS5 expression finding every product of class ``cost`` (and some cheaper
        or no match at all, which ``cost()`` then tells apart)."""
        if cost == 0:
            assert self.phrase is not None
            return probe([self.phrase], stats)
        cheapest = [min(v.cost for v in w) for w in self.words]
        spare = cost - sum(cheapest)
        parts = []
        for readings, low in zip(self.words, cheapest, strict=True):
            texts = _covering([v.text for v in readings if v.cost <= low + spare])
            # A whole word ends in a space, which the index holds after a name but
            # not after the last reference: the probe leaves it out, cost() checks it.
            parts.append(" OR ".join(probe([t.rstrip()], stats) for t in texts))
        return " AND ".join(f"({p})" for p in parts)


def _covering(texts: list[str]) -> list[str]:
    """The texts no shorter one of them lies inside: finding those finds them all."""
    kept: list[str] = []
    for text in sorted(set(texts), key=len):
        if not any(k in text for k in kept):
            kept.append(text)
    return kept


Rank = tuple[int, int, int]  # cost, length of the folded name, product id


def read(
    db: sqlite_utils.Database,
    plan: Plan,
    wanted: int,
    sql: str,
    params: dict[str, Any],
    stats: TrigramStats,
    after: Rank | None,
) -> list[Rank]:
    """Up to ``wanted`` ranks, best first, after ``after``. ``sql`` selects id,
    name_key, code_key and length(name_key) of candidates matching
    ``:fuzzy_match`` (and in no earlier bucket) in (length, id) order, those of
    the class being resumed after (``:fuzzy_length``, ``:fuzzy_after``)."""
    found: list[Rank] = []
    for cost in plan.costs():
        if after is not None and cost < after[0]:
            continue
        params["fuzzy_match"] = plan.match(cost, stats)
        resume = after if after is not None and cost == after[0] else (cost, -1, 0)
        params["fuzzy_length"], params["fuzzy_after"] = resume[1], resume[2]
        for pid, name_key, code_key, length in db.execute(sql, params):
            if plan.cost(f" {name_key} {code_key or ''} ") == cost:
                found.append((cost, length, pid))
                if len(found) == wanted:
                    return found
    return found
