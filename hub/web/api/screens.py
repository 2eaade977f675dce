"""The screens' own routes: their pages and files, the board's state, the dashboard's numbers.

Pages and files are public (they hold no data, and a screen must load them
before anyone signs in); the data behind them is guarded like the rest of
the API. ``GET /api/v1/board`` is public too: it holds order numbers and
board states only (``hub.orders.board``). ``GET /api/v1/dashboard`` is for
managers and admins: a kitchen or cashier login is refused with 403, which
the dashboard page shows instead of the store.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from hub.orders import board
from hub.web.api.context import MANAGERS, Hub, requires
from hub.web.api.openapi import PUBLIC, errors
from hub.web.api.operations_bodies import Dashboard
from hub.web.api.response_bodies import Board
from hub.web.screens import dashboard

_STATIC = resources.files("hub.web.screens") / "static"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# The pages run only their own files: no inline script, nothing from elsewhere.
_PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_PUBLIC = {"exclude_from_auth": True}


def _file(name: str) -> Response[bytes]:
    suffix = name[name.rfind(".") :] if "." in name else ""
    if "/" in name or name.startswith(".") or suffix not in _TYPES:
        raise NotFoundException(f"no screen file {name}")
    path = _STATIC / name
    if not path.is_file():
        raise NotFoundException(f"no screen file {name}")
    return Response(
        path.read_bytes(),
        media_type=_TYPES[suffix],
        headers={"Content-Security-Policy": _PAGE_CSP, "Cache-Control": "no-cache"},
    )


@get(["/", "/dashboard"], opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def dashboard_page() -> Response[bytes]:
    return _file("dashboard.html")


@get("/kds", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def kds_page() -> Response[bytes]:
    return _file("kds.html")


@get("/board", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def board_page() -> Response[bytes]:
    return _file("board.html")


@get("/screens/{name:str}", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def screen_file(name: FromPath[str]) -> Response[bytes]:
    """The pages' CSS and JavaScript, from the hub itself (the store works offline)."""
    return _file(name)


@get(
    "/api/v1/board",
    opt=_PUBLIC,
    tags=["screens"],
    responses=errors(public=True, ok=Board),
    security=PUBLIC,
)
async def board_state(hub: Hub) -> dict[str, Any]:
    """Numbers preparing and ready, and the log head to subscribe to room ``board`` from."""
    return await hub.store.read(board.snapshot, hub.settings.screens.board_ready_seconds)


@get(
    "/api/v1/dashboard",
    guards=[requires(*MANAGERS)],
    tags=["screens"],
    responses=errors(403, ok=Dashboard),
)
async def dashboard_summary(hub: Hub) -> dict[str, Any]:
    """Today's orders by state and takings by method, open sessions, the kitchen, audit."""
    since = dashboard.local_midnight_utc()
    return await hub.store.read(dashboard.summary, hub.settings, hub.money, since)


ROUTES = [dashboard_page, kds_page, board_page, screen_file, board_state, dashboard_summary]
