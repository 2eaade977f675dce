"""Fault switches a test flips while requests are in flight.

Tests run in one thread and the emulator's HTTP server in another, so the
switches live in one immutable ``FaultPlan`` swapped under a lock: a request
reads the plan once and acts on one consistent set of switches.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class FaultPlan:
    """What goes wrong, and for which calls.

    ``only`` limits the faults (all but ``wrong_api_key`` and ``gateway_down``)
    to calls whose method or ``model.method`` is listed, e.g.
    ``{"sync_from_ui", "create_from_ui"}``; ``None`` means every request.
    """

    error_rate: float = 0.0  # answered 503 before anything runs
    delay: float = 0.0  # seconds of latency before the call runs; it still commits
    drop_rate: float = 0.0  # run and commit, then close the socket without answering
    serialization_failure_rate: float = 0.0  # rolled back, "could not serialize access"
    wrong_api_key: bool = False  # every password and API key is refused
    gateway_down: bool = False  # a reverse proxy answers 502 for a dead Odoo
    only: frozenset[str] | None = None

    def applies_to(self, targets: Iterable[str]) -> bool:
        return self.only is None or any(t in self.only for t in targets)


class Faults:
    """The switches: ``set(...)`` from a test, ``plan`` and ``roll`` from the server."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._plan = FaultPlan()
        self._random = random.Random(seed)

    @property
    def plan(self) -> FaultPlan:
        with self._lock:
            return self._plan

    def set(self, **changes: Any) -> None:
        """Change some switches, e.g. ``faults.set(drop_rate=1.0, only={"sync_from_ui"})``."""
        if "only" in changes and changes["only"] is not None:
            changes["only"] = frozenset(changes["only"])
        with self._lock:
            self._plan = replace(self._plan, **changes)

    def clear(self) -> None:
        with self._lock:
            self._plan = FaultPlan()

    def roll(self, rate: float) -> bool:
        """True with probability ``rate``; seeded, so a failing run can be replayed."""
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate
