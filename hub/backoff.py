"""How long to wait before trying again after a failure: doubling, capped, optionally jittered.

One formula for every process that retries: the sync agent talking to Odoo
(jittered), the kitchen bridge re-sending an unacknowledged job (its attempt
count lives in the job's row), the realtime doorbell reconnecting to Redis.

Jitter is for a server many hubs share. Every hub of a chain syncs to the
same Odoo: when it comes back after an outage, hubs that all retried on the
same schedule would arrive together; jitter spreads them. A retry against
this hub's own broker or Redis needs none.
"""

from __future__ import annotations

import random

# The exponent stops here: the cap is reached long before, and a count that keeps
# growing through a long outage never overflows a float.
_MAX_DOUBLINGS = 32


def doubling(first: float, cap: float, doublings: int) -> float:
    """``first`` doubled ``doublings`` times, at most ``cap``."""
    return min(cap, first * 2 ** min(max(doublings, 0), _MAX_DOUBLINGS))


class Backoff:
    """``delay()`` after each failure, ``reset()`` after a success.

    The wait doubles from ``base`` up to ``cap`` and never gives up (an order
    waits in the outbox for as long as Odoo is away).
    """

    def __init__(
        self,
        base: float,
        cap: float,
        rng: random.Random | None = None,
        *,
        jitter: bool = True,
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError(f"need 0 < base <= cap, got base={base} cap={cap}")
        self.base = base
        self.cap = cap
        self.jitter = jitter
        self.failures = 0
        self._rng = rng or random.Random()

    def delay(self, at_least: float | None = None) -> float:
        """Seconds to wait now, within the cap; jittered, half fixed and half random
        ("equal jitter").

        ``at_least`` is a server's Retry-After, which is honoured even above the cap.
        """
        ceiling = doubling(self.base, self.cap, self.failures)
        self.failures += 1
        wait = ceiling / 2 + self._rng.uniform(0, ceiling / 2) if self.jitter else ceiling
        return max(wait, at_least or 0.0)

    def reset(self) -> None:
        self.failures = 0
