"""``edgehub sync`` as a process: the agent under systemd, or one catch-up run.

``serve`` is what ``edgehub-sync.service`` (Type=notify, WatchdogSec=30s)
runs, under the daemon kit's ``supervise`` (hub/daemon): READY=1 once the
database is open and migrated, which does not wait for Odoo (head office is
often away and the store must not wait for it); watchdog pings from a task on
the agent's own event loop, so a loop that hangs gets the process restarted;
STOPPING=1 when SIGTERM arrives, and the agent finishes its turn. Without
Odoo settings the agent idles: the event log keeps every order until they
are set.

``once`` pulls the catalogue, then pushes until nothing is left to push,
showing progress, for a first sync or after fixing parked orders. It exits
non-zero when anything needs a person: an order parked, Odoo away, or Odoo
refusing the credentials, the configuration or the catalogue pull.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloud_sync.agent import Agent
from cloud_sync.errors import AuthFailed, Rejected
from cloud_sync.odoo import OdooClient, retry_pauses
from hub import sync_outbox, sync_status
from hub.clock import now_iso
from hub.daemon import InstanceLock, Lifetime, lock_path, sdnotify, supervise
from hub.db import occupancy
from hub.db.store import Store
from hub.logs import get_logger
from hub.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console

log = get_logger("edgehub.sync")

# ``once`` exit codes: 0 all sent, 1 some parked, 2 Odoo unreachable, 3 refused credentials,
# configuration or catalogue pull, 4 another agent is syncing this database.
PARKED, UNREACHABLE, REFUSED, BUSY = 1, 2, 3, 4
LOCK_POLL_SECONDS = 1.0


def make_client(settings: Settings) -> OdooClient | None:
    """The client for the configured Odoo, or None when sync is not configured."""
    if not (
        settings.odoo.url and settings.odoo.db and settings.odoo.login and settings.odoo.api_key
    ):
        return None
    return OdooClient(
        settings.odoo.url,
        settings.odoo.db,
        settings.odoo.login,
        settings.odoo.api_key.get_secret_value(),
        timeout=settings.sync.timeout_seconds,
        retry_pauses=retry_pauses(settings.sync.retry_pause_seconds),
    )


def serve(settings: Settings) -> int:
    asyncio.run(supervise(lambda life: _serve(settings, life), graceful=True))
    return 0


def agent_lock(settings: Settings) -> InstanceLock:
    """The one-agent-per-database lock, ``<db>.sync.lock``.

    Two agents on one database would push the same rows at the same time.
    Odoo's dedupe would still keep each order once, but every batch would be
    sent twice and half the answers would be "already there". So ``edgehub
    sync`` (the service) and ``edgehub sync --once`` both take it first.
    """
    return InstanceLock(lock_path(settings, "sync"), "the sync agent")


async def _serve(settings: Settings, life: Lifetime) -> None:
    """The agent until stopped; told to stop, it finishes its turn and notes "stopped"."""
    async with occupancy.held_open(settings, life.clock):  # restore refuses while it runs
        store = Store(settings)
        store.start()
        client = make_client(settings)
        lock = agent_lock(settings)
        try:
            life.ready()
            if not await _wait_for_lock(lock, life):
                return
            if client is None:
                sdnotify.status("idle: no Odoo configured (EDGEHUB_ODOO_*)")
                await store.write(sync_status.record_agent, state="idle", heartbeat_at=now_iso())
                await life.stop.wait()
            else:
                sdnotify.status(f"syncing with {client.url}")
                async with client:
                    await Agent(settings, store, client).run(life.stop)
        finally:
            lock.release()
            store.close()


async def _wait_for_lock(lock: InstanceLock, life: Lifetime) -> bool:
    """Wait while another agent (an ``--once`` run) syncs this database; False if stopped first."""
    if lock.try_acquire():
        return True
    holder = lock.holder().pid
    log.warning("sync_waiting_for_lock", holder=holder, lock=lock.path)
    sdnotify.status(f"waiting: another edgehub sync (pid {holder}) is syncing")
    return await lock.wait(life.stop, clock=life.clock, poll=LOCK_POLL_SECONDS)


@dataclass
class OnceReport:
    pushed: int
    parked: int
    exit_code: int
    message: str


def once(settings: Settings, console: Console, *, give_up_after: float = 300.0) -> int:
    """Pull, push until caught up; 0 when everything went, else PARKED/UNREACHABLE/REFUSED."""
    client = make_client(settings)
    if client is None:
        console.print(
            "[yellow]Odoo is not configured[/yellow] (EDGEHUB_ODOO_URL, _DB, _LOGIN, _API_KEY)"
        )
        return REFUSED
    with agent_lock(settings) as lock:
        if not lock.try_acquire():
            pid = lock.holder().pid
            console.print(
                f"[red]edgehub sync is already running (pid {pid})[/red]: it is doing "
                "this already; stop it first (systemctl stop edgehub-sync) to run --once"
            )
            return BUSY
        report = asyncio.run(_once(settings, client, console, give_up_after))
    style = "green" if report.exit_code == 0 else "red"
    console.print(f"[{style}]{report.message}[/{style}]")
    return report.exit_code


async def _once(
    settings: Settings, client: OdooClient, console: Console, give_up_after: float
) -> OnceReport:
    async with occupancy.held_open(settings):  # restore refuses while this runs
        store = Store(settings)
        store.start()
        try:
            async with client:
                agent = Agent(settings, store, client)
                return await _drain(agent, store, console, give_up_after)
        finally:
            store.close()


async def _drain(agent: Agent, store: Store, console: Console, give_up_after: float) -> OnceReport:
    # Imported here: the agent (``edgehub sync``) draws no progress bar.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    deadline = time.monotonic() + give_up_after
    await agent.catch_up_log()
    total, completed = (await store.read(sync_outbox.counts))["pending"], 0
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("connecting, pulling catalogue", total=None)
        while True:
            turn = await agent.step()
            counts = await store.read(sync_outbox.counts)
            # The total grows if tills keep selling while this runs.
            completed = max(completed, total - counts["pending"])
            total = max(total, completed + counts["pending"])
            progress.update(task, description="pushing orders", total=total, completed=completed)
            if isinstance(agent.error, AuthFailed | Rejected):
                return OnceReport(
                    completed, counts["failed"], REFUSED, f"Odoo refused: {agent.error}"
                )
            if agent.error is not None:
                if time.monotonic() > deadline:
                    message = f"gave up, Odoo unreachable: {agent.error}"
                    return OnceReport(completed, counts["failed"], UNREACHABLE, message)
                await asyncio.sleep(0.1)
            elif turn.idle:
                break
    parked = f"{counts['failed']} parked: see `edgehub status`, then `edgehub sync retry`"
    if agent.pull_refused is not None:
        # The orders went, but the hub's catalogue is not Odoo's: a person must look.
        message = f"Odoo refused the catalogue pull: {agent.pull_refused.message}"
        if counts["failed"]:
            message += f"; {parked}"
        return OnceReport(completed, counts["failed"], REFUSED, message)
    if counts["failed"]:
        return OnceReport(completed, counts["failed"], PARKED, parked)
    return OnceReport(completed, 0, 0, f"caught up: {completed} pushed, nothing parked")
