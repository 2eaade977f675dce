"""JWTs for staff and devices, through Litestar's ``JWTAuth``.

The token names the user (``sub``) and carries the role for clients to read;
the hub itself re-reads the user on every request, so a deactivated user or a
changed role takes effect at once rather than at expiry.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from hub.auth.users import Actor, get_actor
from hub.cache import ACTOR
from hub.settings import Settings

PUBLIC_PATHS = ["/health", "/metrics", "/api/v1/auth/token", "/schema"]


async def _retrieve_actor(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
    """The token's user, from the cache (30 min) or SQLite. A change to a user
    appends ``catalog.updated`` naming it, which drops the cached entry."""
    hub = connection.app.state.hub
    try:
        user_id = int(token.sub)
    except ValueError:
        return None

    async def load() -> dict[str, Any] | None:
        actor = await hub.store.read(get_actor, user_id)
        return {"id": actor.id, "role": actor.role, "name": actor.name} if actor else None

    found = await hub.cache.get_or_load(ACTOR, str(user_id), load)
    return Actor(**found) if found else None


def make_jwt_auth(settings: Settings) -> JWTAuth[Actor, Token]:
    return JWTAuth[Actor, Token](
        token_secret=settings.jwt_secret(),
        retrieve_user_handler=_retrieve_actor,
        exclude=PUBLIC_PATHS,
        default_token_expiration=timedelta(seconds=settings.token_ttl_seconds),
    )


def issue_token(auth: JWTAuth[Actor, Token], actor: Actor, ttl_seconds: int) -> str:
    return auth.create_token(
        identifier=str(actor.id),
        token_expiration=timedelta(seconds=ttl_seconds),
        token_extras={"role": actor.role, "name": actor.name},
    )
