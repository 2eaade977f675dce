"""``/ws`` served in front of Litestar, for the server process.

Every fan-out frame goes through the connection's ASGI ``send`` once per
client. Inside Litestar that ``send`` is wrapped twice by its exception
middleware (app and route level, the route level because the JWT middleware
is installed app-wide), each wrapper a coroutine per frame per client: about
2 us of the ~20 us a delivery costs on the reference box, measured with
bench.ws. ``edgehub serve`` hands uvicorn this thin dispatcher, which gives
``/ws`` the server's own ``send`` and everything else to Litestar untouched.

The Litestar route ``/ws`` (``hub.web.realtime.endpoint``) runs the same session
code, so an app used in-process (tests, other servers) behaves the same,
only with the wrappers.

Mind: Litestar middleware never sees these WebSockets. The session does its
own authentication; an app-wide middleware added later (allowed hosts, say)
must be mirrored here if it is to cover ``/ws`` too.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Receive, Scope, Send

from hub.web.realtime.server import Realtime

PATH = "/ws"


class WebSocketFirst:
    """ASGI app: ``/ws`` WebSockets to ``Realtime``, the rest to the Litestar app."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.realtime: Realtime = app.state.realtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == PATH:
            # What Litestar would have set: the session reaches the app's
            # state (the JWT user lookup reads the store from it).
            scope["app"] = scope["litestar_app"] = self.app
            await self.realtime.serve(scope, receive, send)
            return
        await self.app(scope, receive, send)
