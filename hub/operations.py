"""Everything that keeps a hub running unattended, plugged into the app in one line.

``Operations`` is a Litestar init plugin. It adds, to whatever app it joins:

* the database occupancy lock (``hub.db.occupancy``), taken before the store opens;
* the periodic jobs (``hub.jobs``), started after the store and stopped before it;
* ``GET /api/v1/jobs``.

Other modules find it at ``app.state.ops`` and register what they own:
``ops.hooks.stale_cleanup.register("ws", fn)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from hub.api import jobs as jobs_api
from hub.db import occupancy
from hub.db.store import Store
from hub.health import Probes
from hub.jobs.hooks import Hooks
from hub.jobs.maintenance import SyncWatch
from hub.jobs.plan import standard_jobs
from hub.jobs.scheduler import Scheduler
from hub.settings import Settings


class Operations(InitPluginProtocol):
    """The jobs and hooks of one app, and the wiring that adds them to it."""

    def __init__(self, settings: Settings, store: Store, probes: Probes) -> None:
        self.settings = settings
        self.store = store
        self.probes = probes
        self.hooks = Hooks()
        self.sync_watch = SyncWatch(
            settings.sync_consumer,
            configured=bool(settings.odoo_url),
            alert_seconds=settings.sync_lag_alert_seconds,
        )
        self.scheduler = Scheduler(
            store, standard_jobs(settings, store, self.hooks, probes, self.sync_watch)
        )

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.state["ops"] = self
        app_config.route_handlers.extend(jobs_api.ROUTES)
        # The lock before the store opens; the jobs after it starts, and, since
        # lifespans unwind in reverse, stopped before it closes.
        app_config.lifespan = [self._occupy, *app_config.lifespan, self._run_jobs]
        return app_config

    @asynccontextmanager
    async def _occupy(self, app: Litestar) -> AsyncIterator[None]:
        async with occupancy.held_open(self.settings):
            yield

    @asynccontextmanager
    async def _run_jobs(self, app: Litestar) -> AsyncIterator[None]:
        self.scheduler.start()
        try:
            yield
        finally:
            await self.scheduler.stop()
