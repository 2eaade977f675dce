"""``create_app(settings)``: the Litestar app of ``edgehub serve``.

The lifespan owns every resource: the SQLite store is opened (and the schema
migrated) before the first request and closed after the last; the WebSocket
fan-out (``hub.web.realtime``) runs inside it.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide

from hub.auth.throttle import LoginThrottle
from hub.catalog.upkeep import CacheUpkeep
from hub.db.store import Store
from hub.health import Probes
from hub.metrics import CacheStatsCollector
from hub.orders.commands import OrderRules
from hub.orders.money import Money
from hub.settings import Settings
from hub.web.api import (
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
from hub.web.api import devices as devices_api
from hub.web.api import kitchen as kitchen_api
from hub.web.api.context import HubContext, provide_actor, provide_hub
from hub.web.api.errors import EXCEPTION_HANDLERS
from hub.web.api.headers import AllowHeader
from hub.web.api.strict_bodies import StrictBodies
from hub.web.operations import Operations
from hub.web.realtime import endpoint as realtime_endpoint
from hub.web.realtime.server import Realtime
from hub.web.tokens import make_jwt_auth

# The cyclic collector's thresholds once serving: a young generation ten times
# CPython's 700, the older ones as CPython has them. Each WebSocket client holds
# about fifty tracked objects for its life, so a connect storm grows the heap,
# and at 700 the full collections that growth triggers walk every held
# connection, a cost per connect that grows with the clients connected. At
# 7,000 a full collection is considered only every 700,000 net allocations
# (about 7,000 connections), and garbage cycles still go within 7,000
# allocations. The collector's CPU per connection, before and after, was timed
# by hand with a gc.callbacks probe that is not in bench/ (docs/benchmarks.md,
# WebSocket); bench.ws prints the connect rates and the RSS it leaves.
GC_THRESHOLDS = (7000, 10, 10)


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
                gc.set_threshold(*GC_THRESHOLDS)
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
        # ops: jobs, metrics, headers, CORS
        plugins=[ops, openapi.StrictStructSchema(), StrictBodies()],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[AllowHeader()],
        openapi_config=openapi.openapi_config(),
        request_max_body_size=settings.server.max_body_bytes,
        debug=False,
    )
    app.state.hub = hub
    app.state.realtime = realtime
    return app
