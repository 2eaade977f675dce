"""How a daemon lives under systemd: READY, watchdog pings, STOPPING, signals, restarts.

``edgehub bridge``, ``edgehub printer`` and ``edgehub sync`` run under units
that are ``Type=notify`` with ``WatchdogSec=`` like ``edgehub serve`` (see
hub/web/serve.py and hub/sdnotify.py). READY=1 goes out once the process has
opened what it needs and started its loops, not once the broker or Odoo
answers: a peer that is down is waited for inside the process, and systemd
must not fail the unit for it. The watchdog pings come from the same event
loop that does the work, so a blocked loop stops them and gets the process
restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, NoReturn

from hub import sdnotify
from hub.backoff import Backoff
from hub.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from structlog.stdlib import BoundLogger

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Lifetime:
    """What ``supervise`` hands a process body: where to say it has started, when to
    stop, and the clock to wait on."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.started = asyncio.Event()  # set by the body once it is ready (or by ``ready``)
        self.stop = asyncio.Event()  # set on SIGTERM or SIGINT
        self._announced = False

    def ready(self, status: str | None = None) -> None:
        """Startup is complete: READY=1 now (once), then ``status`` if given.

        A body that must tell systemd more right after READY (the sync agent
        waiting for a lock) calls this rather than setting ``started``, so the
        two messages arrive in that order.
        """
        if not self._announced:
            self._announced = True
            sdnotify.ready()
        self.started.set()
        if status is not None:
            sdnotify.status(status)


Work = Callable[[Lifetime], Coroutine[Any, Any, None]]
"""A process body: says it has started, then runs until cancelled or told to stop."""


async def supervise(
    work: Work,
    *,
    status: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    graceful: bool = False,
) -> None:
    """Run ``work`` until SIGTERM or SIGINT (or until it ends), keeping systemd informed.

    READY=1 (and ``status``) goes out when ``work`` sets its started event. On a
    signal STOPPING=1 goes out and ``work`` is cancelled and awaited, so its
    ``finally`` blocks (say goodbye on MQTT, close SQLite) run before this
    returns; with ``graceful`` it is not cancelled but sees ``stop`` set and
    returns by itself. An error that ends ``work`` is raised here, after
    STOPPING=1, and makes the unit fail: systemd's ``Restart=`` starts it again.
    """
    loop = asyncio.get_running_loop()
    life = Lifetime(clock)
    for sig in SIGNALS:
        loop.add_signal_handler(sig, life.stop.set)
    task = asyncio.create_task(work(life))
    informer = asyncio.create_task(_keep_informed(life, status))
    stopper = asyncio.create_task(life.stop.wait())
    told = False
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if graceful and not task.done():
            sdnotify.stopping()
            told = True
            await asyncio.wait({task})  # pings go on meanwhile: the body still turns
    finally:
        if not told:
            sdnotify.stopping()
        for pending in (task, informer, stopper):
            pending.cancel()
        for pending in (informer, stopper):
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _keep_informed(life: Lifetime, status: str | None) -> None:
    """READY once started, then watchdog pings until cancelled.

    Until READY, ``TimeoutStartSec=`` watches the start; the watchdog only after it.
    """
    await life.started.wait()
    life.ready(status)
    await sdnotify.watchdog_task()


async def restarting(
    step: Callable[[], Awaitable[None]],
    *,
    backoff: Backoff,
    log: BoundLogger,
    event: str,
    clock: Clock = SYSTEM_CLOCK,
    **fields: Any,
) -> NoReturn:
    """Run ``step`` again and again until cancelled; after an error, log it with its
    traceback as ``event`` and wait ``backoff`` before the next run.

    A run that returns without error resets the backoff. This is the one
    ``except Exception`` a background loop has: what it left undone is picked
    up by the next run.
    """
    while True:
        try:
            await step()
        except Exception:
            log.error(event, exc_info=True, **fields)
            await clock.sleep(backoff.delay())
        else:
            backoff.reset()
