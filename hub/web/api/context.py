"""What every route handler may ask for: the hub's resources and the caller.

One ``HubContext`` per app, built by ``create_app`` and handed to handlers by
Litestar's dependency injection, so no handler reaches for a global.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler

from hub.auth.roles import PERMISSIONS
from hub.auth.throttle import LoginThrottle
from hub.auth.users import Actor
from hub.cache import Cache
from hub.catalog.gateway import CatalogGateway
from hub.db.store import Store
from hub.errors import Forbidden
from hub.orders.commands import OrderRules
from hub.orders.money import Money
from hub.settings import Settings

if TYPE_CHECKING:
    from litestar.security.jwt import JWTAuth, Token


class HubContext:
    """The hub's resources. A plain class, not a dataclass: Litestar would try to
    validate a dataclass dependency field by field on every request."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        money: Money,
        rules: OrderRules,
        jwt_auth: JWTAuth[Actor, Token],
        throttle: LoginThrottle,
        cache: Cache | None = None,
        catalog: CatalogGateway | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.money = money
        self.rules = rules
        self.jwt_auth = jwt_auth
        self.throttle = throttle
        self.cache = cache if cache is not None else Cache(settings)
        self.catalog = catalog if catalog is not None else CatalogGateway(store, self.cache, money)


def provide_hub(request: Request[Any, Any, Any]) -> HubContext:
    hub: HubContext = request.app.state.hub
    return hub


def provide_actor(request: Request[Any, Any, Any], hub: NamedDependency[HubContext]) -> Actor:
    """The authenticated caller.

    ``hub`` is asked for only to order the two: Litestar resolves independent
    dependencies concurrently in an anyio task group, a task group per request
    for two attribute reads; one depending on the other resolves them in turn.
    """
    actor: Actor = request.user
    return actor


def requires(*roles: str) -> Any:
    """A route guard letting only the named roles through (403 otherwise).

    Async on purpose: Litestar runs a plain function guard in a worker thread,
    a thread hop per request for a set lookup.
    """
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = connection.user
        if not isinstance(actor, Actor) or actor.role not in allowed:
            role = getattr(actor, "role", "anonymous")
            raise Forbidden(f"a {role} may not do this", {"role": role})

    guard.roles = allowed  # type: ignore[attr-defined]  # read by tests that walk the routes
    return guard


# The two permissions most routes need, named as the handlers have always spelled them.
ALL_STAFF = PERMISSIONS["read"]
MANAGERS = PERMISSIONS["manage"]


# Handler parameters filled by name from the app's dependencies (``create_app``).
Hub = NamedDependency[HubContext]
Caller = NamedDependency[Actor]
