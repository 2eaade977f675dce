"""The one format of the hub's times: what ``iso`` writes and ``now_iso`` repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hub.clock import iso, now_iso, parse_iso


def test_iso_writes_utc_milliseconds_and_z_whatever_the_zone() -> None:
    """Another zone's time is stored as the same instant in UTC, so text order is time order."""
    paris = datetime(2026, 11, 29, 9, 31, 54, 12_999, tzinfo=timezone(timedelta(hours=1)))
    assert iso(paris) == "2026-11-29T08:31:54.012Z"
    assert iso(datetime(2026, 11, 29, 8, 31, 54, tzinfo=UTC)) == "2026-11-29T08:31:54.000Z"


def test_iso_refuses_a_naive_datetime() -> None:
    """A time without a zone would silently be read as the machine's local time."""
    with pytest.raises(ValueError):
        iso(datetime(2026, 11, 29, 8, 31, 54))


def test_now_iso_is_iso_of_now() -> None:
    """Stamps written by now_iso and cutoffs made with iso compare as text."""
    before = iso(datetime.now(UTC))
    stamp = now_iso()
    assert before <= stamp <= iso(datetime.now(UTC))
    assert iso(parse_iso(stamp)) == stamp
