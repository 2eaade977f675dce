"""``POST /api/v1/auth/token``: PIN or password in, JWT out, through the one checkpoint."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.params import JSONBody

from hub.auth import checkpoint
from hub.auth.users import Actor
from hub.errors import Unauthorized, ValidationFailed
from hub.web.api.context import Hub, HubContext
from hub.web.api.openapi import PUBLIC, errors
from hub.web.api.response_bodies import Token
from hub.web.api.schemas import Credentials, TokenBody
from hub.web.tokens import issue_token


@post(
    "/api/v1/auth/token",
    status_code=200,
    tags=["auth"],
    responses=errors(401, 413, 422, 429, public=True, ok=Token),
    security=PUBLIC,
)
async def create_token(
    request: Request[Any, Any, Any], data: JSONBody[TokenBody], hub: Hub
) -> dict[str, Any]:
    """Exchange a login and PIN (or password) for a bearer token."""
    if (data.pin is None) == (data.password is None):
        raise ValidationFailed(
            "give either a pin or a password", {"fields": {"pin": "pin or password required"}}
        )
    actor = await check_credentials(request, hub, data, purpose="token")
    if actor is None:
        raise Unauthorized("wrong login or PIN")
    ttl = hub.settings.auth.token_ttl_seconds
    return {
        "access_token": issue_token(hub.jwt_auth, actor, ttl),
        "token_type": "bearer",
        "expires_in": ttl,
        "role": actor.role,
        "user": {"id": actor.id, "name": actor.name},
    }


def client_address(request: Request[Any, Any, Any]) -> str:
    """The address a PIN was typed from, as the throttle counts it."""
    return request.client.host if request.client else "unknown"


async def check_credentials(
    request: Request[Any, Any, Any], hub: HubContext, given: Credentials, *, purpose: str
) -> Actor | None:
    """``given``'s user, through the one checkpoint (throttled and audited), else None."""
    return await checkpoint.check(
        hub.store,
        hub.throttle,
        given.login,
        pin=given.pin,
        password=given.password,
        address=client_address(request),
        purpose=purpose,
    )


ROUTES = [create_token]
