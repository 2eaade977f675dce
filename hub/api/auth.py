"""``POST /api/v1/auth/token``: PIN or password in, JWT out, failures throttled."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.params import JSONBody

from hub.api.context import Hub
from hub.api.schemas import TokenBody, strict_body
from hub.audit import records as audit
from hub.auth.tokens import issue_token
from hub.auth.users import authenticate
from hub.errors import Unauthorized, ValidationFailed


@post("/api/v1/auth/token", status_code=200, tags=["auth"])
async def create_token(
    request: Request[Any, Any, Any], data: JSONBody[TokenBody], hub: Hub
) -> dict[str, Any]:
    """Exchange a login and PIN (or password) for a bearer token."""
    data = await strict_body(request, TokenBody)
    if (data.pin is None) == (data.password is None):
        raise ValidationFailed(
            "give either a pin or a password", {"fields": {"pin": "pin or password required"}}
        )
    address = request.client.host if request.client else "unknown"
    hub.throttle.check(data.login, address)
    actor = await hub.store.read(authenticate, data.login, pin=data.pin, password=data.password)
    await hub.store.write(audit.login, data.login, address, actor)
    if actor is None:
        hub.throttle.failed(data.login, address)
        raise Unauthorized("wrong login or PIN")
    hub.throttle.succeeded(data.login)
    ttl = hub.settings.token_ttl_seconds
    return {
        "access_token": issue_token(hub.jwt_auth, actor, ttl),
        "token_type": "bearer",
        "expires_in": ttl,
        "role": actor.role,
        "user": {"id": actor.id, "name": actor.name},
    }


ROUTES = [create_token]
