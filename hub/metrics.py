"""``/metrics``: the hub's numbers in Prometheus text format, cheap to scrape.

Three sources end up on one page:

* HTTP latency histograms by route template and status (``hub.web.api.timing``),
  and prometheus_client's process and runtime collectors;
* numbers other modules already keep, read at scrape time without this module
  importing them: WebSocket connections (``ws_connections.set_function``), the
  cache's outcomes per kind (``CacheStatsCollector``), or any collector of
  their own (``metrics.register(collector)``), wired in ``hub.web.app``;
* numbers read from SQLite (orders by state, transitions, the event log and
  every consumer's cursor, sync, kitchen jobs, devices, jobs, audit): one read
  snapshot on a reader thread, reused for ``metrics_cache_seconds`` so a
  scrape storm costs one query set, never a blocked event loop. The sync's
  lag and verdict are the sync watch's last reading (``hub.sync_status``,
  the measure ``/health`` uses), not measured a second time here.

The per-app registry keeps two apps in one process (tests) from colliding.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub import snapshot
from hub.clock import parse_iso
from hub.db.store import Store
from hub.periodic.maintenance import SyncWatch
from hub.settings import Settings
from hub.sync_status import Health as SyncHealth

HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class _GlobalRegistry(Collector):
    """Brings prometheus_client's global registry (process, runtime) onto our page."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class CacheStatsCollector(Collector):
    """The cache's own counters per kind (``hub.cache.Cache.stats``), read at scrape time.

    Pulled rather than pushed: the cache already counts every hit, miss, error,
    eviction and invalidation, so the metrics page reads those numbers instead
    of every look-up paying for a second count.
    """

    OUTCOMES = ("hits", "misses", "errors", "evictions", "invalidations")

    def __init__(self, stats: Callable[[], dict[str, Any]]) -> None:
        self.stats = stats

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "edgehub_cache_outcomes", "Cache outcomes by kind", labels=["kind", "outcome"]
        )
        for kind, counts in self.stats().get("kinds", {}).items():
            for outcome in self.OUTCOMES:
                if outcome in counts:
                    family.add_metric([kind, outcome], counts[outcome])
        yield family


class Metrics:
    """The hub's registry, the hooks other modules set, and the database snapshot."""

    def __init__(self, settings: Settings, sync_watch: SyncWatch | None = None) -> None:
        self.settings = settings
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_GlobalRegistry())
        self.ws_connections = Gauge(
            "edgehub_ws_connections", "Open WebSocket connections", registry=self.registry
        )
        self.ws_delivery_lag = Histogram(
            "edgehub_ws_delivery_lag_seconds",
            "From an event's commit to its frames being handed to the sockets",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "edgehub_http_request_duration_seconds",
            "Time to the response's first byte, by route template and status",
            ["method", "route", "status"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self._db = _DatabaseCollector(settings, sync_watch)
        self.registry.register(self._db)
        self._lock = asyncio.Lock()
        self._fresh_until = 0.0

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_latency.labels(method, route, str(status)).observe(seconds)

    def register(self, collector: Collector) -> None:
        """Add a collector of another module's own (e.g. per-room queue depths)."""
        self.registry.register(collector)

    async def refresh(self, store: Store) -> None:
        """Re-read the database numbers unless the last read is recent enough."""
        async with self._lock:  # one refresh at a time; the others reuse its result
            if time.monotonic() < self._fresh_until:
                return
            await store.read(self._db.load)
            self._fresh_until = time.monotonic() + self.settings.server.metrics_cache_seconds


class _DatabaseCollector(Collector):
    """Yields the last snapshot; ``load`` (on a reader thread) replaces it."""

    def __init__(self, settings: Settings, sync_watch: SyncWatch | None) -> None:
        self.settings = settings
        self.sync_watch = sync_watch
        self.snap = snapshot.Snapshot()
        self.transitions: dict[str, int] = {}
        self._history_id = 0

    def load(self, db: Any) -> None:
        snap = snapshot.read(db)
        last, delta = snapshot.transitions_since(db, self._history_id)
        totals = dict(self.transitions)  # swapped whole: collect() may be reading the old one
        for event, count in delta.items():
            totals[event] = totals.get(event, 0) + count
        self._history_id, self.transitions, self.snap = last, totals, snap

    def collect(self) -> Iterator[Metric]:
        snap = self.snap
        yield _gauge("edgehub_orders", "Orders by state", "state", snap.orders_by_state)
        transitions = CounterMetricFamily(
            "edgehub_order_transitions", "Order transitions by event", labels=["event"]
        )
        for event, count in sorted(self.transitions.items()):
            transitions.add_metric([event], count)
        yield transitions
        yield GaugeMetricFamily("edgehub_open_sessions", "Open POS sessions", snap.open_sessions)
        yield GaugeMetricFamily("edgehub_events_head", "Highest event seq", snap.events_head)
        if snap.events_oldest is not None:
            yield GaugeMetricFamily(
                "edgehub_events_oldest", "Oldest event seq kept", snap.events_oldest
            )
        yield _gauge("edgehub_event_cursor", "Each consumer's cursor", "consumer", snap.cursors)
        behind = {c: snap.events_head - s for c, s in snap.cursors.items()}
        yield _gauge("edgehub_event_cursor_behind", "Events not yet read", "consumer", behind)
        yield _gauge(
            "edgehub_sync_orders", "Orders by sync state", "state", snap.orders_by_sync_state
        )
        yield from _sync_metrics(self.sync_watch.latest if self.sync_watch else None)
        yield _gauge("edgehub_kitchen_jobs", "Kitchen jobs by state", "state", snap.kitchen_jobs)
        yield GaugeMetricFamily("edgehub_devices", "Known devices", snap.devices_total)
        yield GaugeMetricFamily("edgehub_devices_online", "Devices online", snap.devices_online)
        yield GaugeMetricFamily("edgehub_audit_rows", "Rows in the audit trail", snap.audit_rows)
        yield from _job_metrics(snap.jobs)


def _gauge(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _sync_metrics(sync: SyncHealth | None) -> Iterator[Metric]:
    """The sync watch's last reading; nothing before its first run."""
    if sync is None:
        return
    yield GaugeMetricFamily(
        "edgehub_sync_pending_events", "Events the sync agent has not read", sync.unread_events
    )
    yield GaugeMetricFamily(
        "edgehub_sync_lag_seconds",
        "Age of the oldest event or order not yet synced",
        sync.lag_seconds,
    )
    yield GaugeMetricFamily(
        "edgehub_sync_lagging", "1 while /health says sync lagging", int(sync.status == "lagging")
    )


def _job_metrics(rows: list[dict[str, Any]]) -> Iterator[Metric]:
    ok = GaugeMetricFamily("edgehub_job_ok", "1 if the job's last run succeeded", labels=["job"])
    runs = CounterMetricFamily("edgehub_job_runs", "Runs recorded", labels=["job"])
    failures = CounterMetricFamily("edgehub_job_failures", "Failed runs", labels=["job"])
    duration = GaugeMetricFamily(
        "edgehub_job_duration_seconds", "Duration of the last run", labels=["job"]
    )
    success = GaugeMetricFamily(
        "edgehub_job_last_success_timestamp_seconds", "When the job last succeeded", labels=["job"]
    )
    for row in rows:
        name = [row["name"]]
        ok.add_metric(name, 1 if row["outcome"] in ("ok", "skipped", None) else 0)
        runs.add_metric(name, row["runs"])
        failures.add_metric(name, row["failures"])
        if row["duration_ms"] is not None:
            duration.add_metric(name, row["duration_ms"] / 1000)
        if row["last_success_at"]:
            success.add_metric(name, parse_iso(row["last_success_at"]).timestamp())
    yield from (ok, runs, failures, duration, success)
