"""A clock the test moves by hand, for code that takes a ``hub.clock.Clock``."""

from __future__ import annotations

import asyncio


class ManualClock:
    """Time stands still until the test (or a ``sleep``) moves it.

    ``sleep`` advances the clock by the time asked and yields once to the loop,
    so a loop that backs off for 300 s runs its next turn at once, and the test
    can read how long it would have waited from ``slept``.
    """

    def __init__(self, wall: float = 1_800_000_000.0, monotonic: float = 1_000.0) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self.slept: list[float] = []

    def wall(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._wall += seconds
        self._monotonic += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
