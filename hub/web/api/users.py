"""Staff accounts over HTTP: a manager lifting a login's lockout.

A cashier locked out after mistyping their PIN should not have to wait out the
window while a queue forms: a manager at another till unlocks them. The
unlock is audited with the manager's name (``login_unlocked``).
"""

from __future__ import annotations

from typing import Any

from litestar import post
from litestar.params import FromPath

from hub.auth import checkpoint
from hub.errors import NotFound
from hub.web.api.context import MANAGERS, Caller, Hub, requires
from hub.web.api.openapi import errors
from hub.web.api.operations_bodies import Unlocked


@post(
    "/api/v1/users/{login:str}/unlock",
    status_code=200,
    guards=[requires(*MANAGERS)],
    tags=["auth"],
    responses=errors(403, 404, 422, ok=Unlocked),
)
async def unlock_user(hub: Hub, actor: Caller, login: FromPath[str]) -> dict[str, Any]:
    """Let a locked-out login try again at once; 404 for a login that does not exist."""
    cleared = await hub.store.write(checkpoint.unlock, hub.throttle, login, actor)
    if cleared is None:
        raise NotFound(f"no user {login!r}", {"login": login})
    return {"login": login, "failures_cleared": cleared}


ROUTES = [unlock_user]
