"""The one backoff every retrying process uses (``hub.backoff``), with each caller's numbers."""

from __future__ import annotations

import random

import pytest

from firmware_bridge.job_store import RetryPolicy
from hub.backoff import Backoff, doubling
from hub.web.realtime.wakeup import MAX_BACKOFF


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    """Hubs that lost Odoo together must not all come back in the same second."""
    backoff = Backoff(1.0, 8.0, random.Random(1))
    waits = [backoff.delay() for _ in range(6)]
    ceilings = [1, 2, 4, 8, 8, 8]
    for wait, ceiling in zip(waits, ceilings, strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert backoff.delay(at_least=30.0) == 30.0  # a server's Retry-After wins
    backoff.reset()
    assert backoff.delay() <= 1.0
    with pytest.raises(ValueError):
        Backoff(0, 1)


def test_the_redis_doorbell_reconnects_on_the_plain_doubling() -> None:
    """Our own Redis has no herd to spread: 0.5 s doubling to 10 s, back to 0.5 s when up."""
    backoff = Backoff(0.5, MAX_BACKOFF, jitter=False)
    assert [backoff.delay() for _ in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    backoff.reset()
    assert backoff.delay() == 0.5


def test_a_kitchen_job_is_resent_on_the_doubling_of_its_attempts() -> None:
    """The attempt count lives in the job's row; the first send waits ``first``."""
    policy = RetryPolicy(first=5.0, maximum=60.0)
    assert [policy.delay(n) for n in range(7)] == [5, 5, 10, 20, 40, 60, 60]
    assert policy.delay(5000) == 60  # a job failing for days never overflows the exponent
    assert doubling(5.0, 60.0, -3) == 5.0
