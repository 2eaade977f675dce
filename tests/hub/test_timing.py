"""Timing as settings, and services that take a clock: tests move time instead of waiting it out."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from hub.auth.throttle import LoginThrottle
from hub.db.connection import immediate, open_db
from hub.db.store import Store
from hub.errors import RateLimited
from hub.health import Probes
from hub.periodic.scheduler import Job, Scheduler, read_status
from hub.settings import Settings
from hub.timing import Timing
from tests.support.clock import ManualClock
from tests.support.hub_process import run_cli


def test_timing_defaults_are_the_constants_they_replace() -> None:
    """Moving a constant into settings must not change what a store's hub does."""
    assert Timing().model_dump() == {
        "health_probe_ttl_seconds": 5.0,
        "health_probe_timeout_seconds": 0.5,
        "redis_ping_timeout_seconds": 2.0,
        "sync_silent_seconds": 60.0,
        "restore_wait_seconds": 30.0,
        "cache_monitor_seconds": 1.0,
        "catalog_words_seconds": 5.0,
        "kitchen_rescan_seconds": 1.0,
        "claim_connect_seconds": 3.0,
    }
    assert Settings().timing == Timing()


def test_timing_is_read_from_one_json_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test's hub process is given short waits through its environment."""
    monkeypatch.setenv("EDGEHUB_TIMING", json.dumps({"health_probe_ttl_seconds": 0.2}))
    timing = Settings().timing
    assert timing.health_probe_ttl_seconds == 0.2
    assert timing.sync_silent_seconds == 60.0  # the others keep their defaults


def test_a_wrong_timing_stops_the_command_naming_it(tmp_path: Path) -> None:
    """A misspelt or non-positive wait is a start-up error, as any other setting's."""
    for value in ('{"health_probe_ttl": 1}', '{"sync_silent_seconds": 0}', "nope"):
        result = run_cli(tmp_path / "edgehub.db", "status", EDGEHUB_TIMING=value)
        assert result.returncode == 2, result.stderr
        assert "EDGEHUB_TIMING" in result.stderr and "Traceback" not in result.stderr


async def _count_connections(connected: list[int]) -> asyncio.Server:
    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.append(1)
        writer.close()

    return await asyncio.start_server(accept, "127.0.0.1", 0)


@pytest.mark.anyio
async def test_a_health_probe_is_reused_until_its_ttl_has_passed(tmp_path: Path) -> None:
    """A storm of /health calls must not become a storm of connections to the broker."""
    connected: list[int] = []
    server = await _count_connections(connected)
    port = server.sockets[0].getsockname()[1]
    clock = ManualClock()
    probes = Probes(
        Settings(db=tmp_path / "e.db", mqtt_url=f"mqtt://127.0.0.1:{port}"), clock=clock
    )
    try:
        first = await probes.mqtt_probe()
        clock.advance(4.9)
        assert await probes.mqtt_probe() is first
        clock.advance(0.1)  # the default TTL, 5 s, has passed
        again = await probes.mqtt_probe()
        assert (first.status, again.status) == ("ok", "ok") and again is not first
        assert len(connected) == 2
    finally:
        server.close()
        await server.wait_closed()


def test_a_lockout_ends_when_the_window_has_passed(settings: Settings) -> None:
    """A locked-out cashier is let in again after the window, told how long to wait until then."""
    clock = ManualClock()
    throttle = LoginThrottle(
        max_failures=2, window_seconds=300, address_max_failures=100, clock=clock
    )
    db = open_db(settings)
    for _ in range(2):
        with immediate(db):
            throttle.reserve(db, "ana", "10.0.0.1")
        clock.advance(10)
    with pytest.raises(RateLimited) as refused, immediate(db):
        throttle.reserve(db, "ana", "10.0.0.1")
    assert refused.value.retry_after == 280  # the first failure leaves the window in 280 s
    clock.advance(279)
    assert throttle.retry_after(db, "ana") == 1
    clock.advance(1)
    assert throttle.retry_after(db, "ana") == 0
    with immediate(db):
        throttle.reserve(db, "ana", "10.0.0.1")  # one of the two tries is free again
    db.close()


def test_a_dead_workers_claim_is_taken_over_after_most_of_an_interval(settings: Settings) -> None:
    """A backup must not stop for good because the worker that claimed it died."""
    clock = ManualClock()
    runs: list[str] = []

    def scheduler(store: Store, worker: str) -> Scheduler:
        async def run() -> str:
            runs.append(worker)
            return worker

        return Scheduler(
            store, [Job("backup", 3600, run, exclusive=True)], owner=worker, clock=clock
        )

    async def scenario() -> list[str | None]:
        store = Store(settings)
        store.start()
        dead, alive = scheduler(store, "dead"), scheduler(store, "alive")
        outcomes = [(await dead.run_once("backup")).outcome]
        clock.advance(3600 * 0.9 - 1)
        outcomes.append((await alive.run_once("backup")).outcome)
        clock.advance(1)
        outcomes.append((await alive.run_once("backup")).outcome)
        (row,) = await store.read(read_status)
        store.close()
        assert row["owner"] == "alive" and row["runs"] == 2
        return outcomes

    assert asyncio.run(scenario()) == ["ok", "skipped", "ok"]
    assert runs == ["dead", "alive"]


def test_a_job_runs_again_after_its_interval_on_the_schedulers_clock(settings: Settings) -> None:
    """An hourly job's loop waits its interval each turn, and stamps each run at its time."""
    clock = ManualClock()
    three_runs = asyncio.Event()
    calls: list[float] = []

    async def hourly() -> str:
        calls.append(clock.wall())
        if len(calls) == 3:
            three_runs.set()
        return "done"

    async def scenario() -> dict[str, object]:
        store = Store(settings)
        store.start()
        scheduler = Scheduler(store, [Job("hourly", 3600, hourly)], clock=clock)
        scheduler.start()
        await asyncio.wait_for(three_runs.wait(), 5)
        await scheduler.stop()
        (row,) = await store.read(read_status)
        store.close()
        return row

    row = asyncio.run(scenario())
    assert calls[:3] == [calls[0], calls[0] + 3600, calls[0] + 7200]
    assert clock.slept[:2] == [3600, 3600]
    assert row["started_at"] >= "2027-01-15T08:00:00.000Z"  # ManualClock's wall, not today's
