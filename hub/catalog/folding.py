"""Folding text for search: what a cashier types and what a label says must meet.

``fold("Crème BRÛLÉE")`` and ``fold("creme brulee")`` are both ``"creme brulee"``:
case folded, compatibility-decomposed (NFKD), combining marks dropped, the few
Latin letters that do not decompose (ø, æ, œ, ł, ...) spelled out, control and
format characters removed, runs of whitespace collapsed. The same function folds
the stored ``name_key``/``code_key`` columns and the query, so SQLite compares
plain folded strings and never needs a collation or a Python function of its own.
"""

from __future__ import annotations

import unicodedata

# Letters NFKD leaves whole; a till keyboard has none of them.
_SPELLED = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "ħ": "h",
        "ŧ": "t",
    }
)

# Unicode categories that never belong in a search key: combining marks (Mn,
# Mc, Me), control (Cc), format (Cf, e.g. zero-width joiners), surrogates (Cs,
# only reachable through broken input), private use (Co) and unassigned (Cn).
_DROPPED = frozenset({"Mn", "Mc", "Me", "Cc", "Cf", "Cs", "Co", "Cn"})


def fold(text: str) -> str:
    """The search key of ``text``: casefolded, unaccented, single-spaced, printable."""
    if text.isascii():
        # Fast path, most product names and every barcode: no marks to strip.
        cleaned = "".join(ch if " " <= ch != "\x7f" else " " for ch in text)
        return " ".join(cleaned.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPELLED))
    kept = []
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category in _DROPPED:
            # A control character still separates words; a mark or a soft
            # hyphen (Cf) sits inside one.
            if category in ("Cc", "Cs"):
                kept.append(" ")
            continue
        kept.append(ch)
    return " ".join("".join(kept).translate(_SPELLED).split())
