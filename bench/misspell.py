"""How cashiers misspell: typo generators and a plain-Python edit distance.

Shared by ``bench.catalog`` (its misspelled query mix; the plain distance is the
baseline rapidfuzz is measured against) and ``tests/catalog/test_fuzzy.py``
(misspellings of generated names that must still find their product, and an
independent brute-force ranking).
"""

from __future__ import annotations

import random
from collections.abc import Callable

VOWELS = "aeiou"
ACCENTED = {"e": "é", "a": "à", "u": "ü", "o": "ô", "i": "ï", "c": "ç", "n": "ñ"}


def osa(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and
    swaps of two adjacent letters, each one edit (what rapidfuzz's ``OSA`` computes)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _inner(word: str, rng: random.Random) -> int:
    """A position inside the word, never its first letter (people get that right)."""
    return rng.randrange(1, len(word) - 1)


def doubled(word: str, rng: random.Random) -> str:
    i = _inner(word, rng)
    return word[:i] + word[i] + word[i:]


def dropped(word: str, rng: random.Random) -> str:
    i = _inner(word, rng)
    return word[:i] + word[i + 1 :]


def swapped(word: str, rng: random.Random) -> str:
    i = _inner(word, rng)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def wrong_vowel(word: str, rng: random.Random) -> str:
    spots = [i for i, ch in enumerate(word) if ch in VOWELS and i > 0]
    if not spots:
        return dropped(word, rng)
    i = rng.choice(spots)
    return word[:i] + rng.choice([v for v in VOWELS if v != word[i]]) + word[i + 1 :]


TYPOS: dict[str, Callable[[str, random.Random], str]] = {
    "doubled": doubled,
    "dropped": dropped,
    "swapped": swapped,
    "wrong vowel": wrong_vowel,
}


def misspell(name: str, rng: random.Random) -> tuple[str, str]:
    """``name`` (folded) with one typo in one of its longer words, or its space dropped
    between two words, or an accent added: (kind, misspelt text)."""
    words = name.split()
    # Six letters or more: a dropped letter still leaves the five a typo needs.
    long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    kind = rng.choice([*TYPOS, "missing space", "accent"])
    if kind == "missing space" and len(words) >= 2:
        i = rng.randrange(len(words) - 1)
        if words[i].isalpha() and words[i + 1].isalpha():
            return kind, " ".join([*words[:i], words[i] + words[i + 1], *words[i + 2 :]])
        kind = "doubled"
    if kind == "accent":
        spots = [i for i, ch in enumerate(name) if ch in ACCENTED]
        if spots:
            i = rng.choice(spots)
            return kind, name[:i] + ACCENTED[name[i]] + name[i + 1 :]
        kind = "dropped"
    if not long:
        return "none", name
    i = rng.choice(long)
    kind = kind if kind in TYPOS else "swapped"
    typo = TYPOS[kind](words[i], rng)
    return kind, " ".join([*words[:i], typo, *words[i + 1 :]])


def misspelled_queries(names: list[str], count: int, seed: int = 13) -> list[str]:
    """What a hurried cashier types: half one word of a name with a typo, a quarter
    two of its words, a quarter the whole name (``names`` folded)."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        words = rng.choice(names).split()
        long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
        if not long:
            continue
        i = rng.choice(long)
        k = rng.random()
        if k < 0.5:
            text = words[i]
        elif k < 0.75:
            text = " ".join(words[i : i + 2] if i + 1 < len(words) else words[i - 1 : i + 1])
        else:
            text = " ".join(words)
        kind, typed = misspell(text, rng)
        if kind != "none" and typed != text:
            out.append(typed)
    return out
