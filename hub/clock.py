"""Time as the hub writes it: UTC, ISO 8601, millisecond precision, ``Z``."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol

_last: tuple[int, str] = (-1, "")


def iso(dt: datetime) -> str:
    """``dt`` as the hub writes times, e.g. ``2026-11-29T08:31:54.012Z``.

    Always UTC with a ``Z`` and exactly three decimals (finer digits are cut,
    not rounded), so two such strings compare as text in time order: the
    retention cutoffs are compared with stored times so. A naive ``dt`` is
    refused rather than taken for local time.
    """
    if dt.tzinfo is None:
        raise ValueError("a naive datetime has no time zone to convert from")
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """The current time as stored everywhere, e.g. ``2026-11-29T08:31:54.012Z``.

    A write stamps several rows (order, history, events, audit) within the same
    millisecond, so the text of the last millisecond is kept and reused rather
    than formatted again each time.
    """
    global _last
    ms = time.time_ns() // 1_000_000
    last_ms, text = _last
    if ms != last_ms:
        text = iso(datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000))
        _last = (ms, text)
    return text


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def span(seconds: float) -> str:
    """A duration as read on a narrow screen: ``45s``, ``12.5m``, ``3.0h``, ``2.0d``."""
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def ago(value: str | None, now: datetime | None = None) -> str:
    """How long ago a stored time was (``3.5m ago``), or ``never``."""
    if not value:
        return "never"
    seconds = ((now or datetime.now(UTC)) - parse_iso(value)).total_seconds()
    return span(max(0.0, seconds)) + " ago"


class Clock(Protocol):
    """Where a service, job or daemon reads the time and waits.

    Passed in, never imported as a global, so a test can hand in a clock it
    moves by hand (``tests.support.clock.ManualClock``) and check an expiry,
    a backoff or a retention cutoff without sleeping through it.
    """

    def wall(self) -> float:
        """Seconds since the epoch, for times that are stored or shown."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for timeouts and intervals."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a manual clock advances instead of waiting)."""
        ...


class SystemClock:
    """The real time: what every process uses outside the tests."""

    def wall(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
