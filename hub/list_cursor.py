"""The opaque cursor of a paged list: a list's kind and a position, base64 so clients keep out.

The core's lists (the catalogue search) and the web app's pages both hand
them out, so the codec lives below both; a cursor of another list, or one
forged, is refused as a 422.
"""

from __future__ import annotations

import base64

from hub.errors import ValidationFailed

MAX_CURSOR = 512  # characters; ours are far shorter (a search key is a folded product name)


def encode(kind: str, value: int | str) -> str:
    """An opaque cursor for the position ``value`` (an id, or a text key) of list ``kind``."""
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode_key(kind: str, cursor: str | None) -> str | None:
    """The position a cursor of ``kind`` stands for; a forged or foreign cursor is a 422."""
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR:
        raise invalid_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        got_kind, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if got_kind != kind:
            raise ValueError(kind)
        return value
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc


def decode(kind: str, cursor: str | None) -> int | None:
    """The id a cursor of an id-ordered list stands for."""
    value = decode_key(kind, cursor)
    if value is None:
        return None
    try:
        position = int(value)
    except ValueError as exc:
        raise invalid_cursor() from exc
    if not 0 <= position < 2**63:  # an id SQLite can bind
        raise invalid_cursor()
    return position


def invalid_cursor() -> ValidationFailed:
    """The 422 for a cursor this hub did not give out (or gave out for another list)."""
    return ValidationFailed(
        "after is not a cursor this list gave out", {"fields": {"after": "invalid cursor"}}
    )
