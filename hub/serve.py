"""Running the hub under uvicorn, and telling systemd when it is really ready.

READY=1 goes out once uvicorn has bound its socket (the app's lifespan runs
before that, so it cannot be the one to say so); the watchdog pings from the
same event loop that serves requests, so a hung loop gets the process
restarted; STOPPING=1 goes out when shutdown begins.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import uvicorn

from hub import sdnotify
from hub.app import create_app
from hub.settings import Settings

POLL_SECONDS = 0.1


def make_server(settings: Settings, *, host: str, port: int, access_log: bool) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        http="httptools",
        loop="uvloop",
        ws="websockets-sansio",
        log_level=settings.log_level,
        # uvicorn's own logging setup would give its loggers their own handlers;
        # without it they reach ours, in JSON when asked and through redaction
        # (an access log line may hold a WebSocket URL with ?token=).
        log_config=None,
        access_log=access_log,
        lifespan="on",
    )
    return uvicorn.Server(config)


async def serve(server: uvicorn.Server) -> None:
    """Serve until told to stop, keeping systemd informed."""
    notifier = asyncio.create_task(_keep_systemd_informed(server))
    try:
        await server.serve()
    finally:
        notifier.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await notifier


async def _keep_systemd_informed(server: uvicorn.Server) -> None:
    """READY once bound, WATCHDOG from this loop, STOPPING as soon as shutdown begins.

    STOPPING cannot wait for ``serve()`` to return: uvicorn re-raises the
    SIGTERM it caught once it has shut down, which ends the process first.
    """
    while not server.started:
        if server.should_exit:
            return
        await asyncio.sleep(POLL_SECONDS)
    sdnotify.ready()
    sdnotify.status(f"serving on {server.config.host}:{server.config.port}")
    period = sdnotify.watchdog_interval()
    last_ping = 0.0
    while not server.should_exit:
        now = time.monotonic()
        if period and now - last_ping >= period / 2:
            sdnotify.watchdog_ping()
            last_ping = now
        await asyncio.sleep(POLL_SECONDS)
    sdnotify.stopping()


def run(settings: Settings, *, host: str, port: int, access_log: bool = False) -> None:
    import uvloop

    server = make_server(settings, host=host, port=port, access_log=access_log)
    uvloop.run(serve(server))
