"""Everything that keeps a hub running unattended, plugged into the app in one line.

``Operations`` is a Litestar init plugin. It adds, to whatever app it joins:

* the database occupancy lock (``hub.db.occupancy``), taken before the store opens;
* the periodic jobs (``hub.periodic``), started after the store and stopped before it;
* ``GET /metrics`` and ``GET /api/v1/jobs``, HTTP latency by route template;
* its logging left to ``hub.logs`` (JSON on request, secrets redacted);
* security headers on every answer, and CORS for the configured origins only.

Other modules find it at ``app.state.ops`` and register what they own:
``ops.hooks.cache_warm.register("catalogue", fn)``,
``ops.metrics.ws_connections``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.plugins import InitPluginProtocol

from hub.db import occupancy
from hub.db.store import Store
from hub.health import Probes
from hub.metrics import Metrics
from hub.periodic.hooks import Hooks
from hub.periodic.maintenance import SyncWatch
from hub.periodic.plan import standard_jobs
from hub.periodic.scheduler import Scheduler
from hub.settings import Settings
from hub.web.api import metrics as metrics_api
from hub.web.api import periodic as jobs_api
from hub.web.api.headers import add_security_headers
from hub.web.api.timing import RouteTimer, http_observer


class Operations(InitPluginProtocol):
    """The jobs, hooks and metrics of one app, and the wiring that adds them to it."""

    def __init__(self, settings: Settings, store: Store, probes: Probes) -> None:
        self.settings = settings
        self.store = store
        self.probes = probes
        self.hooks = Hooks()
        self.sync_watch = SyncWatch(settings)
        self.metrics = Metrics(settings, self.sync_watch)
        self.scheduler = Scheduler(
            store, standard_jobs(settings, store, self.hooks, probes, self.sync_watch)
        )

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.state["ops"] = self
        app_config.route_handlers.extend([*metrics_api.ROUTES, *jobs_api.ROUTES])
        # First, so it stamps requests before the JWT middleware can refuse them.
        app_config.middleware.insert(0, RouteTimer())
        app_config.before_send.extend([http_observer(self.metrics), add_security_headers])
        # Logging is set up once, by hub.logs in main(); Litestar's default config
        # would replace the root handler, and with it JSON output and redaction.
        app_config.logging_config = None
        if self.settings.server.cors_origins:
            app_config.cors_config = CORSConfig(
                allow_origins=list(self.settings.server.cors_origins),
                allow_methods=["GET", "POST", "PATCH", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                allow_credentials=False,
            )
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
