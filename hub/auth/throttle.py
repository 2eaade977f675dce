"""Login throttling: a few failures per login and per address, then a pause.

Counted in process memory, in a sliding window. A PIN has 10,000 values; five
tries per five minutes per login and per address makes guessing one take
weeks, while a cashier who mistypes twice never notices. A success clears the
login's count.
"""

from __future__ import annotations

import math
import time
from collections import deque

from hub.errors import RateLimited


class LoginThrottle:
    def __init__(self, max_failures: int, window_seconds: float, max_keys: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def check(self, login: str, address: str) -> None:
        """Raise RateLimited if either key has used up its failures in the window."""
        now = time.monotonic()
        wait = max(self._wait(f"login:{login.lower()}", now), self._wait(f"addr:{address}", now))
        if wait > 0:
            raise RateLimited(
                "too many failed logins; try again later", retry_after=max(1, math.ceil(wait))
            )

    def failed(self, login: str, address: str) -> None:
        now = time.monotonic()
        for key in (f"login:{login.lower()}", f"addr:{address}"):
            times = self._failures.setdefault(key, deque())
            times.append(now)
            while len(times) > self.max_failures:
                times.popleft()
        if len(self._failures) > self.max_keys:
            self._forget_oldest(now)

    def succeeded(self, login: str) -> None:
        self._failures.pop(f"login:{login.lower()}", None)

    def _wait(self, key: str, now: float) -> float:
        times = self._failures.get(key)
        if not times or len(times) < self.max_failures:
            return 0.0
        return times[0] + self.window - now

    def _forget_oldest(self, now: float) -> None:
        expired = [k for k, t in self._failures.items() if not t or t[-1] + self.window < now]
        for key in expired:
            del self._failures[key]
        while len(self._failures) > self.max_keys:
            self._failures.pop(next(iter(self._failures)))
