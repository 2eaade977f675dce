"""Opaque list cursors and the ``limit`` rule every list shares (default 50, at most 500)."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any, TypeVar

from hub.errors import ValidationFailed

# The codec is the core's (the catalogue search pages too); the handlers reach it here.
from hub.list_cursor import decode as decode
from hub.list_cursor import decode_key as decode_key
from hub.list_cursor import encode as encode

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_LIMIT}", {"fields": {"limit": "out of range"}}
        )
    return limit


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
