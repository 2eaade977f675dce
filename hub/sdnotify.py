"""Telling systemd how a process is doing: the sd_notify protocol, without libsystemd.

The units in ``systemd/`` are ``Type=notify`` with ``WatchdogSec=``. That buys
two things a plain ``Type=simple`` cannot: units ordered after the hub start
only once it is really ready (database open, app started), and a process whose
event loop has hung, which a crash detector would never notice, is killed and
restarted.

The protocol is one datagram per message to the AF_UNIX socket named by
``$NOTIFY_SOCKET`` (a leading ``@`` means the abstract namespace), each message
``KEY=VALUE`` lines. Outside systemd the variable is unset and every call is a
no-op returning False, so the same code runs under ``scripts/run`` and in tests.

Watchdog pings must come from the event loop itself: ``watchdog_task()`` sleeps
on the loop between pings, so a loop blocked by a stray synchronous call stops
pinging and systemd restarts the process. The app lifespan owns that task.
"""

from __future__ import annotations

import asyncio
import os
import socket

__all__ = [
    "notify",
    "ready",
    "status",
    "stopping",
    "watchdog_interval",
    "watchdog_ping",
    "watchdog_task",
]


def notify(state: str) -> bool:
    """Send ``state`` (e.g. ``"READY=1"``) to the service manager; True if it was sent.

    Never raises: an unset or unreachable socket returns False, because a
    service must not fail for want of telling systemd about itself.
    """
    address = os.environ.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):
        address = "\0" + address[1:]
    elif not address.startswith("/"):
        # Unset, or a transport this client does not speak (systemd >= 253 also
        # offers vsock): nobody is listening that we could reach.
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            # Non-blocking: callers run on the event loop, and a datagram that
            # does not fit in the manager's queue is better dropped than waited
            # for. A lost watchdog ping is re-sent half an interval later.
            sock.setblocking(False)
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError:
        return False
    return True


def ready() -> bool:
    """Startup is complete: systemd marks the unit active and starts what waits for it."""
    return notify("READY=1")


def stopping() -> bool:
    """Shutdown has begun, so systemd shows the unit as deactivating, not hung."""
    return notify("STOPPING=1")


def status(text: str) -> bool:
    """A one-line status shown by ``systemctl status`` (newlines would end the field)."""
    return notify("STATUS=" + " ".join(text.splitlines()))


def watchdog_ping() -> bool:
    """Reset the watchdog timer: this process is alive and its loop is turning."""
    return notify("WATCHDOG=1")


def watchdog_interval() -> float | None:
    """Seconds within which systemd expects a ping, or None when no watchdog is armed.

    ``WATCHDOG_PID`` names the process the watchdog is meant for; a child that
    inherited the environment must not answer for its parent.
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    try:
        interval = int(usec)
        if pid and int(pid) != os.getpid():
            return None
    except ValueError:
        return None
    return interval / 1_000_000 if interval > 0 else None


async def watchdog_task(interval: float | None = None) -> None:
    """Ping the watchdog every half interval until cancelled; return at once if none is armed.

    ``interval`` overrides the one read from the environment (for tests). Half
    the interval is what sd_watchdog_enabled(3) recommends: one late tick of a
    busy loop does not get a healthy process killed.
    """
    period = watchdog_interval() if interval is None else interval
    if period is None:
        return
    while True:
        watchdog_ping()
        await asyncio.sleep(period / 2)
