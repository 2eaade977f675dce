"""Fault switches a test flips while requests are in flight.

Tests run in one thread and the emulator's HTTP server in another, so the
switches live in one immutable ``FaultPlan`` swapped under a lock: a request
reads the plan once and acts on one consistent set of switches.

Each fault fails where a real deployment fails, which decides what a client
may conclude from it (``http.EmulatorApp`` applies them in this order):

* ``error_rate``: the reverse proxy in front of Odoo answers 503 (nginx's
  page) without passing the request on: Odoo ran nothing;
* ``delay``: latency before Odoo runs the call; it still runs and commits
  (at once, if the delay is switched off meanwhile);
* ``serialization_failure_rate``: Odoo ran the call and PostgreSQL rolled it
  back ("could not serialize access"): nothing committed, an error answered;
* worker limits (``push_seconds_per_order``): a push of n orders keeps an
  Odoo worker busy n times that long, emulated without waiting. Past
  ``limit_time_real`` the server kills the worker (``PreforkServer.process_timeout``
  in ``odoo/service/server.py``: SIGKILL): the transaction dies uncommitted
  and the client's connection closes unanswered. If the CPU share of that
  time reaches ``limit_time_cpu`` first, the worker's SIGXCPU handler
  (``Worker.signal_time_expired_handler``) raises ``Exception('CPU time limit
  exceeded.')``: rolled back, and answered as an error;
* ``drop_rate``: Odoo ran the call and committed, then the link lost the
  answer: the client sees a connection closed without a response.
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
    push_seconds_per_order: float = 0.0  # emulated worker time per order of a push
    push_cpu_share: float = 1.0  # the part of that time spent on the CPU
    limit_time_real: float = 120.0  # odoo.conf defaults (odoo/tools/config.py)
    limit_time_cpu: float = 60.0
    only: frozenset[str] | None = None

    def applies_to(self, targets: Iterable[str]) -> bool:
        return self.only is None or any(t in self.only for t in targets)

    def worker_limit(self, orders: int) -> str | None:
        """Which limit a push of ``orders`` orders hits first: ``"real"``, ``"cpu"`` or None."""
        busy = orders * self.push_seconds_per_order
        if busy <= 0:
            return None
        # The CPU limit trips when the CPU part of the time reaches it.
        cpu_trips_at = self.limit_time_cpu / self.push_cpu_share if self.push_cpu_share else None
        if cpu_trips_at is not None and cpu_trips_at <= self.limit_time_real:
            return "cpu" if busy > cpu_trips_at else None
        return "real" if busy > self.limit_time_real else None


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
