"""Opaque list cursors and the ``limit`` rule every list shares (default 50, at most 500)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from operator import itemgetter
from typing import Any, TypeVar

from hub.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_CURSOR = 512  # characters; ours are far shorter (a search key is a folded product name)


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_LIMIT}", {"fields": {"limit": "out of range"}}
        )
    return limit


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


def cut(
    items: list[T], limit: int, kind: str, position: Callable[[T], int | str]
) -> tuple[list[T], str | None]:
    """A page's items and the cursor of the next page (None on the last).

    ``items`` holds up to ``limit + 1`` rows; the extra one only says that more follow.
    """
    more = len(items) > limit
    items = items[:limit]
    return items, encode(kind, position(items[-1])) if more and items else None


def page(items: list[Any], limit: int, kind: str, key: str = "id") -> dict[str, Any]:
    """``cut`` for rows that are dicts, as ``{"items": [...], "next": cursor}``."""
    items, after = cut(items, limit, kind, itemgetter(key))
    return {"items": items, "next": after}
