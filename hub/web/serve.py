"""Running the hub under uvicorn, and telling systemd when it is really ready.

READY=1 goes out once uvicorn has bound its socket (the app's lifespan runs
before that, so it cannot be the one to say so); the watchdog pings from the
same event loop that serves requests, so a hung loop gets the process
restarted; STOPPING=1 goes out when shutdown begins.
"""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn

from hub import sdnotify
from hub.settings import Settings
from hub.web.app import create_app

POLL_SECONDS = 0.1


def make_config(
    settings: Settings, *, host: str, port: int, access_log: bool, workers: int = 1
) -> uvicorn.Config:
    """uvicorn as measured best here: httptools, uvloop, the sans-I/O websockets."""
    from hub.web.realtime.fastpath import WebSocketFirst

    return uvicorn.Config(
        # Several workers each build their own app from the environment (hub.cli.worker_app).
        "hub.cli:worker_app" if workers > 1 else WebSocketFirst(create_app(settings)),
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        http="httptools",
        loop="uvloop",
        ws="websockets-sansio",
        # A hard cap far above the 64 kB /ws messages the hub answers with an error.
        ws_max_size=1024 * 1024,
        # No permessage-deflate: it compresses each frame once per client, which on a
        # fan-out to hundreds of screens costs more CPU than the LAN saves in bytes.
        ws_per_message_deflate=False,
        ws_ping_interval=settings.realtime.ping_interval,
        ws_ping_timeout=settings.realtime.ping_timeout,
        log_level=settings.logging.level,
        # uvicorn's own logging setup would give its loggers their own handlers;
        # without it they reach ours, in JSON when asked and through redaction
        # (an access log line may hold a WebSocket URL with ?token=).
        log_config=None,
        access_log=access_log,
        lifespan="on",
    )


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
    watchdog = asyncio.create_task(sdnotify.watchdog_task())
    try:
        while not server.should_exit:  # noqa: ASYNC110 - uvicorn offers no event to await
            await asyncio.sleep(POLL_SECONDS)
    finally:
        watchdog.cancel()
    sdnotify.stopping()


def run(
    settings: Settings, *, host: str, port: int, access_log: bool = False, workers: int = 1
) -> None:
    config = make_config(settings, host=host, port=port, access_log=access_log, workers=workers)
    if workers > 1:
        _run_workers(config)
        return
    import uvloop

    uvloop.run(serve(uvicorn.Server(config)))


def _run_workers(config: uvicorn.Config) -> None:
    """The supervisor of ``--workers N``: it owns the socket, so it tells systemd.

    READY once the socket is bound and the workers are started; the watchdog
    from a thread of the supervisor (a hung worker is restarted by uvicorn's
    supervisor itself, which checks its children).
    """
    import threading

    from uvicorn.supervisors import Multiprocess

    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    stop = threading.Event()

    def keep_informed() -> None:
        sdnotify.ready()
        sdnotify.status(f"serving on {config.host}:{config.port} with {config.workers} workers")
        period = sdnotify.watchdog_interval()
        while not stop.wait(period / 2 if period else 1.0):
            if period:
                sdnotify.watchdog_ping()

    notifier = threading.Thread(target=keep_informed, name="sdnotify", daemon=True)
    notifier.start()
    try:
        supervisor.run()
    finally:
        stop.set()
        sdnotify.stopping()
