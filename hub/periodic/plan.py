"""The periodic jobs of ``edgehub serve``, with their intervals from settings.

| job           | does                                                         | scope    |
|---------------|--------------------------------------------------------------|----------|
| cache_warm    | runs the registered cache warm-up hooks                      | process  |
| redis_probe   | PINGs Redis and records the answer for /health               | process  |
| sync_watch    | reads the sync status for /metrics; logs a change of verdict | process  |
| fault_watch   | logs each fault (``hub.faults``) once as it starts and clears | database |
| db_optimize   | ``PRAGMA optimize`` and a bounded incremental vacuum         | database |
| event_prune   | drops events every consumer has read, outside the window,    | database |
|               | and old finished kitchen jobs of finished orders             |          |
| backup        | an online backup into the rotating set                       | database |
| db_check      | ``PRAGMA quick_check``: a damaged file fails /health at once | process  |

"database" jobs run in one worker at a time (see ``scheduler``).
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

from hub import backup, faults
from hub.clock import now_iso
from hub.db.store import Store
from hub.health import Probe, Probes
from hub.periodic import maintenance
from hub.periodic.hooks import Hooks
from hub.periodic.scheduler import Job
from hub.settings import Settings


def standard_jobs(
    settings: Settings,
    store: Store,
    hooks: Hooks,
    probes: Probes,
    sync_watch: maintenance.SyncWatch,
) -> list[Job]:
    rule = maintenance.PruneRule(
        keep_hours=settings.retention.events_keep_hours,
        keep_count=settings.retention.events_keep_count,
        consumers=tuple(settings.retention.events_consumers),
    )

    async def fault_watch() -> str:
        redis = probes.redis_state() if probes.redis_state is not None else None
        current = await store.read(faults.detect, settings, redis=redis)
        return await store.write(faults.note_changes, current)

    async def redis_probe() -> str:
        probe = await ping_redis(settings.redis.url, settings.timing.redis_ping_timeout_seconds)
        if probe.status != "off":
            probes.record("redis", probe)
        return probe.status + (f" ({probe.error})" if probe.error else "")

    async def take_backup() -> str:
        info = await asyncio.to_thread(backup.take_backup, settings)
        gone = f", {len(info.removed)} old removed" if info.removed else ""
        return f"{info.path.name} ({info.size} bytes, {info.seconds:.2f}s){gone}"

    async def optimize() -> str:
        return await store.write(maintenance.optimize)

    async def prune() -> str:
        """The event log, then the kitchen's finished jobs: two bounded writes, one note.

        One job rather than a kitchen job of its own: both are the same hourly
        retention chore (an age window, oldest first, a bound per run) over
        the one database, so one interval, one claim and one line in /health
        say all of it. Each table is its own write, so a till waits behind one
        bounded delete at most, never both.
        """
        pruned = await store.write(maintenance.prune, rule)
        kitchen = await store.write(
            maintenance.prune_kitchen_jobs, settings.retention.kitchen_jobs_keep_hours
        )
        return f"{pruned}; {kitchen}"

    async def check_database() -> str:
        verdict = await store.read(maintenance.quick_check)
        if verdict != "ok":
            store.mark_damaged(f"quick_check: {verdict}")
            raise RuntimeError(f"the database is damaged (quick_check: {verdict})")
        return "ok"

    return [
        Job("cache_warm", settings.jobs.cache_warm_seconds, hooks.cache_warm.run_all),
        Job("redis_probe", settings.jobs.redis_probe_seconds, redis_probe),
        Job("sync_watch", settings.jobs.sync_watch_seconds, partial(sync_watch.run, store)),
        Job("fault_watch", settings.jobs.fault_watch_seconds, fault_watch, exclusive=True),
        Job("db_optimize", settings.jobs.db_optimize_seconds, optimize, exclusive=True),
        Job("event_prune", settings.jobs.event_prune_seconds, prune, exclusive=True),
        Job("backup", settings.jobs.backup_seconds, take_backup, exclusive=True),
        Job("db_check", settings.jobs.db_check_seconds, check_database),
    ]


async def ping_redis(url: str | None, within: float) -> Probe:
    """One PING, answered ``within`` seconds or not at all; Redis away is a finding,
    not a failure of the job."""
    if not url:
        return Probe("off", now_iso())
    import redis.asyncio as aioredis  # here: a hub without Redis never loads redis-py

    client = aioredis.from_url(url, socket_connect_timeout=within, socket_timeout=within)
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(within):
            await client.ping()
        return Probe("ok", now_iso(), round((time.perf_counter() - t0) * 1000, 3))
    except (OSError, TimeoutError, aioredis.RedisError) as exc:
        return Probe("down", now_iso(), error=type(exc).__name__)
    finally:
        await client.aclose()
