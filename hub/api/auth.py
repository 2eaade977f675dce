"""``POST /api/v1/auth/token``: PIN or password in, JWT out, failures throttled."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from litestar import Request, post
from litestar.params import JSONBody

from hub.api.context import Hub
from hub.api.schemas import TokenBody, strict_body
from hub.audit import records as audit
from hub.auth.throttle import LoginThrottle
from hub.auth.tokens import issue_token
from hub.auth.users import Actor, authenticate
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
    await hub.store.read(hub.throttle.check, data.login, address)
    actor = await hub.store.read(authenticate, data.login, pin=data.pin, password=data.password)
    await hub.store.write(_record_attempt, hub.throttle, data.login, address, actor)
    if actor is None:
        raise Unauthorized("wrong login or PIN")
    ttl = hub.settings.token_ttl_seconds
    return {
        "access_token": issue_token(hub.jwt_auth, actor, ttl),
        "token_type": "bearer",
        "expires_in": ttl,
        "role": actor.role,
        "user": {"id": actor.id, "name": actor.name},
    }


def _record_attempt(
    db: sqlite_utils.Database,
    throttle: LoginThrottle,
    login: str,
    address: str,
    actor: Actor | None,
) -> None:
    """Audit the attempt and count it for the throttle, in one transaction."""
    audit.login(db, login, address, actor)
    if actor is None:
        throttle.failed(db, login, address)
    else:
        throttle.succeeded(db, login)


ROUTES = [create_token]
