"""The catalogue's words, for typo-tolerant search: what a misspelt word may have meant.

A spellfix-style vocabulary held in memory: every folded word of the product
names and references (words with a digit left out: a size, a reference number
or a barcode off by one digit is another product), each word's starts (so a
typo in a half-typed word still finds it: "capuc" → "cappuc(cino)"), and each
pair of adjacent words written without their space ("icecream" → "ice cream").

``variants("chese", 1)`` compares the word with the entries of a length within
the typo budget, by optimal string alignment distance (a swap of two letters
counts as one typo), and answers what to look for in the product index:
``' cheese '`` (the word "cheese") at one typo, ``' chees'`` (a word
starting "chees": Cheeseburger) at one typo and one more step. Ranking the few
thousand entries of one length is done by ``rapidfuzz`` (C++, bit-parallel):
measured against the plain-Python distance in ``bench.catalog``.

The vocabulary is rebuilt from the table after catalogue changes
(``hub.catalog.upkeep``); while it is stale a new word is not yet found by its
misspellings, and a word no product holds any more yields a variant that
matches nothing. Search confirms every variant against the product itself, so
a stale vocabulary can miss a typo, never return a wrong product.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlite_utils

from hub.catalog.folding import fold

MIN_ENTRY = 3  # shorter entries are never within the budget of a 5-letter word
MAX_PAIR = 32  # longer joined pairs are not a word anyone types without a space


def budget(word: str) -> int:
    """Typos allowed in a query word: none below 5 letters, 1 from 5, 2 from 9;
    none in a word with a digit (a barcode, a size, a reference number)."""
    if any(ch.isdigit() for ch in word):
        return 0
    letters = sum(ch.isalpha() for ch in word)
    return 0 if letters < 5 else 1 if letters < 9 else 2


@dataclass(frozen=True, slots=True)
class Variant:
    """Text to find in a product's folded name or reference, and what finding it costs.

    ``cost`` orders the fuzzy bucket: two per typo, plus one when the text is only
    the start of a longer word (the query was closer to a whole word elsewhere)."""

    text: str
    cost: int


# One entry: the search text it stands for, typos it adds (1 for a dropped space),
# and whether it is a whole word (or a whole pair).
_Meaning = tuple[str, int, bool]


@dataclass(frozen=True, slots=True)
class _Shelf:
    """The entries of one length: a list for rapidfuzz, their meanings by entry."""

    entries: list[str]
    meanings: dict[str, tuple[_Meaning, ...]]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Entries by length; ``words`` are the whole words, for "is this a real word?"."""

    by_length: dict[int, _Shelf] = field(default_factory=dict)
    words: frozenset[str] = frozenset()

    @classmethod
    def load(cls, db: sqlite_utils.Database) -> Vocabulary:
        """The vocabulary of every product, sellable or not (a filter may ask for
        either); keys not yet folded (a row written by plain SQL) are folded here."""
        rows = db.execute("SELECT name_key, code_key, name, default_code FROM products").fetchall()
        return cls.of(
            key if key is not None else fold(text)
            for name_key, code_key, name, code in rows
            for key, text in ((name_key, name), (code_key, code))
            if text
        )

    @classmethod
    def of(cls, texts: Iterable[str]) -> Vocabulary:
        """The vocabulary of these folded texts."""
        seen: set[str] = set()
        joined: set[tuple[str, str]] = set()
        for text in texts:
            split = text.split()
            seen.update(split)
            joined.update(itertools.pairwise(split))
        plain = {w for w in seen if not any(ch.isdigit() for ch in w)}
        words = {w for w in plain if len(w) >= MIN_ENTRY}
        pairs = {(a, b) for a, b in joined if a in plain and b in plain}
        meanings: dict[str, dict[str, _Meaning]] = {}

        def add(entry: str, meaning: _Meaning) -> None:
            known = meanings.setdefault(entry, {})
            text, typos, whole = meaning
            old = known.get(text)
            if old is None or (typos, not whole) < (old[1], not old[2]):
                known[text] = meaning

        for word in words:
            add(word, (f" {word} ", 0, True))
            for size in range(MIN_ENTRY, len(word)):
                add(word[:size], (" " + word[:size], 0, False))
        for a, b in pairs:
            if len(a) + len(b) <= MAX_PAIR:
                add(a + b, (f" {a} {b} ", 1, True))
        by_length: dict[int, dict[str, tuple[_Meaning, ...]]] = {}
        for entry, known in meanings.items():
            by_length.setdefault(len(entry), {})[entry] = tuple(known.values())
        shelves = {size: _Shelf(list(e), e) for size, e in by_length.items()}
        return cls(shelves, frozenset(words))

    def __len__(self) -> int:
        return sum(len(shelf.entries) for shelf in self.by_length.values())

    def variants(self, word: str, typos: int) -> list[Variant]:
        """What ``word`` may have meant, within ``typos``, cheapest first (no exact
        match of ``word`` itself: the caller looks for that as typed)."""
        if typos <= 0:
            return []
        # Imported at the first typo search, not with the web app: ~35 ms of every
        # start of `edgehub serve`, which most starts never use.
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        best: dict[str, int] = {}
        for size in range(len(word) - typos, len(word) + typos + 1):
            shelf = self.by_length.get(size)
            if shelf is None:
                continue
            for entry, distance, _ in process.extract(
                word, shelf.entries, scorer=OSA.distance, score_cutoff=typos, limit=None
            ):
                for text, extra, whole in shelf.meanings[entry]:
                    spent = int(distance) + extra
                    if 0 < spent <= typos:
                        cost = 2 * spent + (0 if whole else 1)
                        best[text] = min(cost, best.get(text, cost))
        return sorted((Variant(t, c) for t, c in best.items()), key=lambda v: (v.cost, v.text))


NO_WORDS = Vocabulary()
