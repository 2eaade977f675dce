"""A small scheduler: one task per job, each outcome recorded in ``job_runs``.

Every job has an owner, the ``Scheduler``, which cancels and awaits its tasks
on shutdown. A job that raises is logged with its traceback, recorded as an
error, and runs again at its next interval: one bad run never stops the loop.

A job marked ``exclusive`` does work for the whole database (backups, pruning,
optimising): when several ``edgehub serve`` workers share one file, the
first to claim it in ``job_runs`` runs it and the others wait out the interval.
The claim is one ``UPDATE`` in the writer's transaction, so two workers can
never both win it. A worker that dies loses its claim after one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from hub.clock import SYSTEM_CLOCK, Clock, iso, parse_iso
from hub.db.store import Store
from hub.logs import get_logger, redact

log = get_logger("edgehub.jobs")

# A claim older than this share of the interval may be taken over: a little
# under one, so a worker that runs on time is not beaten by its own schedule.
CLAIM_SLACK = 0.9
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Job:
    """``run`` returns a short note for the status (or None) and raises on failure."""

    name: str
    interval: float
    run: Callable[[], Awaitable[str | None]]
    exclusive: bool = False


@dataclass
class JobState:
    """What this process knows of a job between runs."""

    job: Job
    runs: int = 0
    failures: int = 0
    outcome: str | None = None
    error: str | None = None
    note: str | None = None
    duration: float | None = None
    running: bool = False


class Scheduler:
    """Runs jobs at their intervals, from ``start()`` until ``stop()``."""

    def __init__(
        self,
        store: Store,
        jobs: Sequence[Job],
        *,
        owner: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        """``clock`` paces the loops and stamps the runs: a test's ``ManualClock`` runs
        a job's next turn at once, and the claims see the time the test set."""
        names = [j.name for j in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.store = store
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.states = {j.name: JobState(j) for j in jobs}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self) -> None:
        for name, state in self.states.items():
            self._tasks[name] = asyncio.create_task(self._loop(state), name=f"job:{name}")

    async def stop(self) -> None:
        """Cancel every job and wait for each to finish unwinding."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._tasks.values())

    async def run_once(self, name: str) -> JobState:
        """Run one job now (the loop's own step); for tests and manual triggers."""
        state = self.states[name]
        await self._step(state)
        return state

    async def _loop(self, state: JobState) -> None:
        while True:
            delay = await self._step(state)
            await self.clock.sleep(delay)

    async def _step(self, state: JobState) -> float:
        """One run of a job; returns how long to sleep before the next."""
        job = state.job
        try:
            started = self._now()
            wait = await self.store.write(_claim, job, self.owner, started)
        except Exception as exc:
            log.error("job_claim_failed", job=job.name, error=repr(exc))
            return job.interval
        if wait > 0:
            state.outcome, state.note = "skipped", "another worker ran it"
            return wait
        state.running = True
        t0 = time.perf_counter()
        try:
            note = await job.run()
        except asyncio.CancelledError:
            # Shutdown: say so in the status (the store is still open, the
            # lifespan closes it after the scheduler), then let the task end.
            state.duration = time.perf_counter() - t0
            state.outcome, state.note, state.error = "cancelled", "stopped by shutdown", None
            with contextlib.suppress(Exception):
                await self.store.write(_record, job.name, state, self._now())
            raise
        except Exception as exc:
            state.duration = time.perf_counter() - t0
            state.failures += 1
            state.outcome, state.note = "error", None
            # Shown to managers and in `edgehub status`: redacted like a log line.
            state.error = redact(f"{type(exc).__name__}: {exc}")[:MAX_ERROR_CHARS]
            log.error("job_failed", exc_info=True, job=job.name)
        else:
            state.duration = time.perf_counter() - t0
            state.outcome, state.note, state.error = "ok", note, None
        finally:
            state.running = False
        state.runs += 1
        try:
            await self.store.write(_record, job.name, state, self._now())
        except Exception:
            log.error("job_record_failed", exc_info=True, job=job.name)
        if state.outcome == "ok":
            log.debug("job_done", job=job.name, ms=_ms(state.duration))
        return job.interval

    def _now(self) -> str:
        return iso(datetime.fromtimestamp(self.clock.wall(), UTC))


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _claim(db: sqlite_utils.Database, job: Job, owner: str, now: str) -> float:
    """Mark the job started by ``owner``; returns 0, or how long to wait if another holds it."""
    db.execute(
        "INSERT INTO job_runs (name, interval_seconds) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET interval_seconds = excluded.interval_seconds",
        (job.name, job.interval),
    )
    if job.exclusive:
        row = db.execute(
            "SELECT owner, started_at FROM job_runs WHERE name = ?", (job.name,)
        ).fetchone()
        holder, started_at = row
        if holder not in (None, owner) and started_at:
            age = (parse_iso(now) - parse_iso(started_at)).total_seconds()
            if age < job.interval * CLAIM_SLACK:
                return job.interval - age
    db.execute(
        "UPDATE job_runs SET owner = ?, started_at = ? WHERE name = ?",
        (owner, now, job.name),
    )
    return 0.0


def _record(db: sqlite_utils.Database, name: str, state: JobState, now: str) -> None:
    ok = state.outcome == "ok"
    db.execute(
        "UPDATE job_runs SET finished_at = ?, outcome = ?, duration_ms = ?, error = ?, note = ?, "
        "runs = runs + 1, failures = failures + ?, "
        "last_success_at = CASE WHEN ? THEN ? ELSE last_success_at END WHERE name = ?",
        (
            now,
            state.outcome,
            _ms(state.duration),
            state.error,
            state.note,
            0 if ok else 1,
            ok,
            now,
            name,
        ),
    )


def read_status(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every job's last run as recorded, for ``GET /api/v1/jobs`` and ``edgehub status``."""
    cursor = db.execute(
        "SELECT name, interval_seconds, owner, started_at, finished_at, outcome, duration_ms, "
        "error, note, runs, failures, last_success_at FROM job_runs ORDER BY name"
    )
    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:
        row["next_run_at"] = _next_run(row)
    return rows


def _next_run(row: dict[str, Any]) -> str | None:
    if not row["started_at"]:
        return None
    due = parse_iso(row["started_at"]) + timedelta(seconds=row["interval_seconds"])
    return iso(due)


def stale(row: dict[str, Any], now: datetime | None = None) -> bool:
    """A job that has not finished a run for three of its intervals needs a look."""
    last = row.get("finished_at")
    if not last:
        return False
    now = now or datetime.now(UTC)
    return (now - parse_iso(last)).total_seconds() > 3 * row["interval_seconds"]
