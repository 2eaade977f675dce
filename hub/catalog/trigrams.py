"""Which trigrams to ask the FTS5 index for: the rare ones, measured by the index itself.

An FTS5 trigram query costs about one doclist read per trigram it names, and a
doclist is as long as the number of products holding that trigram: a phrase of
every trigram of "conserveira atlantico" reads ~20 doclists of 1,000+ entries
(~1 ms), while the rarest trigram of each word reads three short ones (~0.15 ms)
and leaves a handful of candidates for ``instr`` to confirm. Runs of common
trigrams (references, barcodes: "vin-00001") are selective only together; for
them a short phrase (a window of ``WINDOW_CHARS``) is the cheaper probe.

``TrigramStats`` are read from the ``product_trigrams`` fts5vocab table,
refreshed from time to time: stale statistics make a search slower, never wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlite_utils

WINDOW_CHARS = 6  # a phrase of four trigrams
MAX_PROBES = 3
SELECTIVE = 1000  # products holding a trigram, for it to probe a long word alone


@dataclass(frozen=True, slots=True)
class TrigramStats:
    """How many products hold each trigram, and how many products there are."""

    docs: dict[str, int] = field(default_factory=dict)
    total: int = 0

    @classmethod
    def load(cls, db: sqlite_utils.Database) -> TrigramStats:
        docs = dict(db.execute("SELECT term, doc FROM product_trigrams").fetchall())
        total = db.execute("SELECT COUNT(*) FROM products").fetchone()[0]
        return cls(docs, int(total))

    def reach(self, gram: str) -> int:
        return self.docs.get(gram, 0)


NO_STATS = TrigramStats()


def phrase(text: str) -> str:
    """An FTS5 string: the text is data, never syntax (a ``"`` inside is doubled)."""
    return '"' + text.replace('"', '""') + '"'


def _grams(text: str) -> list[str]:
    return [text[i : i + 3] for i in range(len(text) - 2)]


def _window(text: str, stats: TrigramStats) -> str:
    """The ``WINDOW_CHARS`` characters of ``text`` whose trigrams are rarest together."""
    grams = _grams(text)
    size = WINDOW_CHARS - 2
    if len(text) <= WINDOW_CHARS:
        return text
    if not stats.total:
        # Without statistics, the end: the start of a word is its commonest part.
        return text[-WINDOW_CHARS:]
    start = min(
        range(len(grams) - size + 1), key=lambda i: sorted(map(stats.reach, grams[i : i + size]))
    )
    return text[start : start + WINDOW_CHARS]


def probe(texts: list[str], stats: TrigramStats) -> str:
    """An FTS5 expression finding every product that holds all ``texts`` (each of
    three characters or more), reading as few doclist entries as it can.

    One text: itself when short (an exact phrase), else its rarest trigram when
    that is selective, else its rarest window. Several: the rarest trigram of
    each of the (up to ``MAX_PROBES``) words whose rarest trigram is rarest;
    trigrams of different words narrow the candidates far more than more
    trigrams of one word.
    """
    if not stats.total:
        longest = sorted(texts, key=len, reverse=True)[:MAX_PROBES]
        return " AND ".join(phrase(_window(t, stats)) for t in longest)
    if len(texts) == 1:
        text = texts[0]
        gram = min(_grams(text), key=stats.reach)
        if len(text) > WINDOW_CHARS and stats.reach(gram) <= SELECTIVE:
            return phrase(gram)
        return phrase(_window(text, stats))
    rarest = sorted((min(_grams(t), key=stats.reach) for t in texts), key=stats.reach)
    return " AND ".join(phrase(g) for g in list(dict.fromkeys(rarest))[:MAX_PROBES])
