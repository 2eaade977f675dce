"""``create_app(settings)``: the Litestar app of ``edgehub serve``.

The lifespan owns every resource: the SQLite store is opened (and the schema
migrated) before the first request and closed after the last; the WebSocket
fan-out (``hub.realtime``) runs inside it.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide

from hub.api import (
    auth,
    catalog,
    catalog_admin,
    events,
    health,
    openapi,
    orders,
    screens,
    sessions,
    sync,
    users,
)
from hub.api import devices as devices_api
from hub.api import kitchen as kitchen_api
from hub.api.context import HubContext, provide_actor, provide_hub
from hub.api.errors import EXCEPTION_HANDLERS
from hub.api.headers import AllowHeader
from hub.auth.throttle import LoginThrottle
from hub.auth.tokens import make_jwt_auth
from hub.catalog.upkeep import CacheUpkeep
from hub.db.store import Store
from hub.health import Probes
from hub.metrics import CacheStatsCollector
from hub.operations import Operations
from hub.orders.money import Money
from hub.orders.service import OrderRules
from hub.realtime import endpoint as realtime_endpoint
from hub.realtime.service import Realtime
from hub.settings import Settings


def create_app(settings: Settings) -> Litestar:
    settings = settings.with_jwt_secret()  # the key's one read (or creation), at start-up
    store = Store(settings)
    money = Money(settings.rules.currency_digits)
    jwt_auth = make_jwt_auth(settings)
    hub = HubContext(
        settings=settings,
        store=store,
        money=money,
        rules=OrderRules(
            money=money, store=settings.store.code, max_discount_pct=settings.rules.max_discount_pct
        ),
        jwt_auth=jwt_auth,
        throttle=LoginThrottle(
            settings.auth.login_max_failures,
            settings.auth.login_window_seconds,
            settings.auth.login_address_max_failures,
        ),
    )
    probes = Probes(settings)
    upkeep = CacheUpkeep(settings, store, hub.cache, hub.catalog)
    ops = Operations(settings, store, probes)
    ops.hooks.cache_warm.register("catalogue", upkeep.warm)
    ops.metrics.register(CacheStatsCollector(hub.cache.stats))
    probes.redis_state = lambda: (hub.cache.state, hub.cache.last_error)
    realtime = Realtime(settings, store, jwt_auth)
    ops.metrics.ws_connections.set_function(realtime.presence.local_count)
    realtime.fanout.lag_observer = ops.metrics.ws_delivery_lag.observe

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store.start()
        try:
            async with realtime.running():
                # What exists now (modules, the app, its routes) lives as long as
                # the process: frozen, the collector stops walking it again on
                # every full collection, a pause that grows with the heap.
                gc.freeze()
                yield
        finally:
            store.close()

    app = Litestar(
        route_handlers=[
            *auth.ROUTES,
            *catalog.ROUTES,
            *catalog_admin.ROUTES,
            *sessions.ROUTES,
            *orders.ROUTES,
            *events.ROUTES,
            *health.ROUTES,
            *kitchen_api.ROUTES,
            *devices_api.ROUTES,
            *realtime_endpoint.ROUTES,
            *sync.ROUTES,
            *users.ROUTES,
            *screens.ROUTES,
            *openapi.ROUTES,
        ],
        dependencies={
            "hub": Provide(provide_hub, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "probes": Provide(lambda: probes, sync_to_thread=False),
        },
        lifespan=[lifespan, upkeep.lifespan],
        on_app_init=[jwt_auth.on_app_init],
        plugins=[ops, openapi.StrictStructSchema()],  # ops: jobs, metrics, headers, CORS
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[AllowHeader()],
        openapi_config=openapi.openapi_config(),
        request_max_body_size=settings.server.max_body_bytes,
        debug=False,
    )
    app.state.hub = hub
    app.state.realtime = realtime
    return app
