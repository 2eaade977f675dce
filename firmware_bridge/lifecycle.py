"""How a kitchen process lives under systemd: READY, watchdog pings, STOPPING, signals.

Shared by ``edgehub bridge`` and ``edgehub printer``, whose units are
``Type=notify`` with ``WatchdogSec=`` like ``edgehub serve`` (see hub/serve.py
and hub/sdnotify.py). READY=1 goes out once the process has opened what it
needs and started its loops, not once the broker answers: a broker that is
down is waited for inside the process, and systemd must not fail the unit for
it. The watchdog task pings from the same event loop that does the work, so a
blocked loop stops the pings and gets the process restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from hub import sdnotify

Work = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""A process body: sets the event it is given once started, then runs until cancelled."""


async def supervise(work: Work, *, status: str) -> None:
    """Run ``work`` until SIGTERM or SIGINT (or until it ends), keeping systemd informed.

    READY=1 goes out when ``work`` sets its started event. On a signal ``work``
    is cancelled and awaited, so its ``finally`` blocks (say goodbye on MQTT,
    close SQLite) run before this returns. An error that ends ``work`` is
    raised here, after STOPPING=1, and makes the unit fail.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    started = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(work(started))
    stopper = asyncio.create_task(stop.wait())
    announcer = asyncio.create_task(started.wait())
    # Until READY, TimeoutStartSec= watches the start; the watchdog only after it.
    watchdog: asyncio.Task[None] = asyncio.create_task(asyncio.sleep(0))
    try:
        await asyncio.wait({task, stopper, announcer}, return_when=asyncio.FIRST_COMPLETED)
        if announcer.done():
            sdnotify.ready()
            sdnotify.status(status)
            watchdog = asyncio.create_task(sdnotify.watchdog_task())
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sdnotify.stopping()
        for pending in (task, watchdog, stopper, announcer):
            pending.cancel()
        for pending in (watchdog, stopper, announcer):
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    with contextlib.suppress(asyncio.CancelledError):
        await task
