"""How long to wait before talking to Odoo again after a failure: exponential, jittered, capped.

Every hub of a chain syncs to the same Odoo. When it comes back after an
outage, hubs that all retried on the same schedule would arrive together;
jitter spreads them. The wait doubles from ``base`` up to ``cap`` and never
gives up: an order waits in the outbox for as long as Odoo is away.
"""

from __future__ import annotations

import random


class Backoff:
    """``delay()`` after each failure, ``reset()`` after a success."""

    def __init__(self, base: float, cap: float, rng: random.Random | None = None) -> None:
        if base <= 0 or cap < base:
            raise ValueError(f"need 0 < base <= cap, got base={base} cap={cap}")
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()

    def delay(self, at_least: float | None = None) -> float:
        """Seconds to wait now: half fixed, half random ("equal jitter"), within the cap.

        ``at_least`` is a server's Retry-After, which is honoured even above the cap.
        """
        ceiling = min(self.cap, self.base * 2 ** min(self.failures, 32))
        self.failures += 1
        wait = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        return max(wait, at_least or 0.0)

    def reset(self) -> None:
        self.failures = 0
