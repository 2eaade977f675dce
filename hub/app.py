"""``create_app(settings)``: the Litestar app of ``edgehub serve``.

The lifespan owns every resource: the SQLite store is opened (and the schema
migrated) before the first request and closed after the last.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from hub.api import auth, catalog, events, health, orders, sessions, sync
from hub.api.context import HubContext, provide_actor, provide_hub
from hub.api.errors import EXCEPTION_HANDLERS
from hub.auth.throttle import LoginThrottle
from hub.auth.tokens import make_jwt_auth
from hub.db.store import Store
from hub.health import Probes
from hub.orders.money import Money
from hub.orders.service import OrderRules
from hub.settings import Settings


def create_app(settings: Settings) -> Litestar:
    store = Store(settings)
    money = Money(settings.currency_digits)
    jwt_auth = make_jwt_auth(settings)
    hub = HubContext(
        settings=settings,
        store=store,
        money=money,
        rules=OrderRules(
            money=money, store=settings.store, max_discount_pct=settings.max_discount_pct
        ),
        jwt_auth=jwt_auth,
        throttle=LoginThrottle(settings.login_max_failures, settings.login_window_seconds),
    )
    probes = Probes(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store.start()
        try:
            yield
        finally:
            store.close()

    app = Litestar(
        route_handlers=[
            *auth.ROUTES,
            *catalog.ROUTES,
            *sessions.ROUTES,
            *orders.ROUTES,
            *events.ROUTES,
            *health.ROUTES,
            *sync.ROUTES,
        ],
        dependencies={
            "hub": Provide(provide_hub, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "probes": Provide(lambda: probes, sync_to_thread=False),
        },
        lifespan=[lifespan],
        on_app_init=[jwt_auth.on_app_init],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(title="EdgeHub", version="1", path="/schema"),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
    app.state.hub = hub
    return app
