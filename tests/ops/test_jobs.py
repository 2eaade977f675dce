"""Periodic jobs: each runs and records its outcome, failures are retried, shutdown is clean."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub import events
from hub.clock import iso
from hub.db.connection import immediate, open_db
from hub.db.store import Store
from hub.periodic import maintenance
from hub.periodic.scheduler import Job, Scheduler, read_status
from hub.settings import Settings
from tests.conftest import demo_database, make_settings
from tests.ops.inprocess import SECRET, login, running

ALL_JOBS = {
    "cache_warm",
    "redis_probe",
    "db_optimize",
    "event_prune",
    "sync_watch",
    "fault_watch",
    "backup",
    "db_check",
}
FAST = {f"job_{name}_seconds": 0.05 for name in ALL_JOBS}


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _old_events(settings: Settings, count: int, hours_ago: float) -> None:
    db = open_db(settings)
    ts = iso(datetime.now(UTC) - timedelta(hours=hours_ago))
    with immediate(db):
        for _ in range(count):
            events.append(db, "catalog.updated", {}, ["store"])
        db.execute("UPDATE events SET ts = ?", (ts,))
        for consumer in ("kitchen", "sync"):
            events.set_cursor(db, consumer, events.head(db))
    db.close()


def test_every_job_runs_in_the_app_and_records_its_outcome(tmp_path: Path) -> None:
    """Each job of a served hub runs on its own, and its outcome is there for /api/v1/jobs."""
    settings = make_settings(
        demo_database(tmp_path / "edgehub.db"),
        secret_key=SECRET,
        redis_url="redis://127.0.0.1:6379/0",
        events_keep_hours=1,
        events_keep_count=0,
        **FAST,
    )
    _old_events(settings, 5, hours_ago=2)
    with running(settings) as (app, client):
        hooks = app.state.ops.hooks

        async def warm() -> int:
            return 12

        hooks.cache_warm.register("products", warm)
        admin = login(client, "admin")

        def all_ran() -> bool:
            rows = client.get("/api/v1/jobs", headers=admin).json()["items"]
            return {r["name"] for r in rows if r["runs"] >= 2} == ALL_JOBS

        _wait_for(all_ran)
        rows = {r["name"]: r for r in client.get("/api/v1/jobs", headers=admin).json()["items"]}
    for name, row in rows.items():
        assert row["outcome"] == "ok", (name, row)
        assert row["error"] is None and row["failures"] == 0
        assert row["duration_ms"] is not None and row["last_success_at"] is not None
    assert rows["redis_probe"]["note"] == "ok"
    assert rows["cache_warm"]["note"].endswith("products=12")  # after the catalogue warm-up
    note = rows["event_prune"]["note"]
    assert re.fullmatch(r"\d+ events pruned \(bound seq \d+\); \d+ kitchen jobs pruned", note)
    assert rows["backup"]["note"].startswith("edgehub-demo-")
    db = open_db(settings, readonly=True)
    assert events.oldest(db) is None or events.oldest(db) > 5  # the old, read events went
    statuses = db.execute("SELECT data FROM events WHERE event = 'sync.status'").fetchall()
    assert statuses == []  # sync.status is the sync agent's to say, not the watch's
    assert len(list((tmp_path / "backups").glob("edgehub-demo-*.db"))) >= 2


def _store(settings: Settings) -> Store:
    store = Store(settings)
    store.start()
    return store


def test_shutdown_cancels_every_job_and_waits_for_it(settings: Settings) -> None:
    """Stopping the hub mid-job leaves no task running and says so in the status."""
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await asyncio.sleep(3600)
        return "never"

    async def quick() -> str:
        return "done"

    async def scenario() -> None:
        store = _store(settings)
        scheduler = Scheduler(store, [Job("slow", 60, slow), Job("quick", 0.01, quick)])
        scheduler.start()
        await asyncio.wait_for(started.wait(), 5)
        await asyncio.sleep(0.05)
        tasks = scheduler.tasks
        await asyncio.wait_for(scheduler.stop(), 5)
        assert all(t.done() and t.cancelled() for t in tasks)
        assert asyncio.all_tasks() == {asyncio.current_task()}
        rows = {r["name"]: r for r in await store.read(read_status)}
        assert rows["slow"]["outcome"] == "cancelled"
        assert rows["quick"]["outcome"] == "ok" and rows["quick"]["runs"] >= 2
        store.close()

    asyncio.run(scenario())


def test_a_failing_job_logs_its_traceback_and_runs_again(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """One bad run is an error in the status and the log, never the end of the job."""
    calls: list[int] = []

    third_call = asyncio.Event()

    async def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("disk hiccup")
        if len(calls) == 3:
            third_call.set()
        return "recovered"

    async def scenario() -> list[dict[str, Any]]:
        store = _store(settings)
        scheduler = Scheduler(store, [Job("flaky", 0.02, flaky)])
        state = await scheduler.run_once("flaky")
        assert (state.outcome, state.error) == ("error", "ValueError: disk hiccup")
        failed = await store.read(read_status)
        scheduler.start()
        await asyncio.wait_for(third_call.wait(), 5)
        await scheduler.stop()
        rows = failed + await store.read(read_status)
        store.close()
        return rows

    with caplog.at_level(logging.ERROR, logger="edgehub.jobs"):
        failed, later = asyncio.run(scenario())
    assert failed["outcome"] == "error" and failed["error"] == "ValueError: disk hiccup"
    assert later["outcome"] == "ok" and later["note"] == "recovered" and later["failures"] == 1
    record = next(r for r in caplog.records if "job_failed" in r.getMessage())
    assert record.exc_info is not None and "disk hiccup" in caplog.text
    assert "Traceback" in caplog.text


def test_a_database_job_runs_in_one_worker_only(settings: Settings) -> None:
    """Two workers on one file must not both back up or prune: the first claim wins."""
    runs: list[str] = []

    def job(worker: str) -> Job:
        async def run() -> str:
            runs.append(worker)
            return worker

        return Job("backup", 60, run, exclusive=True)

    async def scenario() -> tuple[str | None, str | None]:
        store = _store(settings)
        first = Scheduler(store, [job("a")], owner="a")
        second = Scheduler(store, [job("b")], owner="b")
        a = await first.run_once("backup")
        b = await second.run_once("backup")
        await first.run_once("backup")  # the owner may run it again at its own pace
        store.close()
        return a.outcome, b.outcome

    assert asyncio.run(scenario()) == ("ok", "skipped")
    assert runs == ["a", "a"]


def test_prune_keeps_unread_events_and_the_resume_window(settings: Settings) -> None:
    """A consumer behind, or a WebSocket client resuming, still finds its events."""
    db = open_db(settings)
    now = datetime.now(UTC)
    with immediate(db):
        for _ in range(10):
            events.append(db, "catalog.updated", {}, ["store"])
        old = iso(now - timedelta(hours=5))
        db.execute("UPDATE events SET ts = ? WHERE seq <= 8", (old,))
        events.set_cursor(db, "kitchen", 9)
        events.set_cursor(db, "sync", 6)  # sync is behind: 7.. stay
    rule = maintenance.PruneRule(keep_hours=1, keep_count=0, consumers=("kitchen", "sync"))
    with immediate(db):
        maintenance.prune(db, rule)
    assert events.oldest(db) == 7
    with immediate(db):
        events.set_cursor(db, "sync", 10)
        maintenance.prune(db, rule)
    assert events.oldest(db) == 9  # 9 and 10 are inside the one-hour window
    with immediate(db):
        maintenance.prune(db, maintenance.PruneRule(0, 8, ("kitchen", "sync")))
    assert events.oldest(db) == 9  # keep_count: the last 8 stay whatever their age


def test_prune_waits_for_a_named_consumer_that_never_ran(settings: Settings) -> None:
    """A store not yet connected to head office keeps every order for the sync agent."""
    db = open_db(settings)
    with immediate(db):
        for _ in range(3):
            events.append(db, "order.created", {}, ["store"])
        events.set_cursor(db, "kitchen", 3)
        db.execute("UPDATE events SET ts = '2000-01-01T00:00:00.000Z'")
    rule = maintenance.PruneRule(keep_hours=0, keep_count=0, consumers=("kitchen", "sync"))
    with immediate(db):
        assert maintenance.prune(db, rule).startswith("0 events")
    assert events.oldest(db) == 1


def test_sync_watch_measures_the_lag_and_logs_a_change(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A dead sync agent shows as lagging in the watch's reading and the journal, within one run."""
    # Odoo configured, but no agent runs here: nothing ever calls that address.
    watch = maintenance.SyncWatch(make_settings(settings.store.db, odoo_url="http://127.0.0.1:9"))

    async def scenario() -> list[str]:
        store = _store(settings)
        db = open_db(settings)
        with immediate(db):
            events.append(db, "order.created", {}, ["store"])
            db.execute("UPDATE events SET ts = '2000-01-01T00:00:00.000Z'")
        notes = [await watch.run(store)]
        with immediate(db):
            events.set_cursor(db, "sync", events.head(db))
        notes.append(await watch.run(store))
        store.close()
        return notes

    with caplog.at_level(logging.INFO, logger="edgehub.jobs"):
        notes = asyncio.run(scenario())
    assert notes[0].startswith("lagging, 1 events unread, 0 pending, 0 parked")
    assert notes[1].startswith("ok, 0 events unread")
    assert watch.latest is not None and watch.latest.status == "ok"
    assert [r.getMessage() for r in caplog.records] == ["sync_lag_state"]
    said = open_db(settings, readonly=True).execute(
        "SELECT COUNT(*) FROM events WHERE event = 'sync.status'"
    )
    assert said.fetchone()[0] == 0


def _one_unsynced_event(settings: Settings, age_seconds: float) -> None:
    """The sync agent has read the whole log but one event, ``age_seconds`` old."""
    db = open_db(settings)
    ts = iso(datetime.now(UTC) - timedelta(seconds=age_seconds))
    with immediate(db):
        events.set_cursor(db, "sync", events.head(db))
        seq = events.append(db, "order.created", {}, ["store"])
        db.execute("UPDATE events SET ts = ? WHERE seq = ?", (ts, seq))
    db.close()


@pytest.mark.parametrize(
    ("age_seconds", "verdict"),
    [(450, "ok"), (700, "lagging")],
    ids=["between-the-old-thresholds", "past-the-threshold"],
)
def test_health_and_the_sync_watch_give_one_verdict(
    tmp_path: Path, age_seconds: float, verdict: str
) -> None:
    """/health's check, its detail, the watch and /metrics must not disagree about the sync."""
    settings = make_settings(
        demo_database(tmp_path / "edgehub.db"),
        secret_key=SECRET,
        odoo_url="http://127.0.0.1:9",  # configured; no agent runs here, so nothing calls it
    )
    _one_unsynced_event(settings, age_seconds)
    with running(settings) as (app, client):
        ops = app.state.ops
        job = client.blocking_portal.call(ops.scheduler.run_once, "sync_watch")
        health = client.get("/health").json()
        scraped = client.get("/metrics").text
    watched = ops.sync_watch.latest
    assert watched is not None and (job.note or "").startswith(f"{verdict}, 1 events unread")
    assert health["checks"]["sync"] == health["detail"]["sync"]["status"] == watched.status
    assert watched.status == verdict
    sync = health["detail"]["sync"]
    assert sync["unread_events"] == 1 and (sync["pending"], sync["failed"]) == (0, 0)
    assert age_seconds <= sync["lag_seconds"] < age_seconds + 60
    assert f"edgehub_sync_lagging {float(verdict == 'lagging')}" in scraped
    assert "edgehub_sync_pending_events 1.0" in scraped


def test_optimize_hands_free_pages_back(settings: Settings) -> None:
    """Pruned events must not leave the file at its peak size forever."""
    db = open_db(settings)
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # set on the new file
    with immediate(db):
        for _ in range(3000):
            events.append(db, "catalog.updated", {"pad": "x" * 500}, ["store"])
    with immediate(db):
        db.execute("DELETE FROM events")
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    assert free > 100
    with immediate(db):
        note = maintenance.optimize(db)
    assert f"{free} of {free} free pages released" in note
    assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert sqlite3.connect(settings.store.db).execute("PRAGMA integrity_check").fetchone() == (
        "ok",
    )
