"""The daemon kit: what every long-running EdgeHub process is made of.

``edgehub bridge``, ``edgehub printer`` and ``edgehub sync`` live the same way
under systemd, so they share one kit instead of each writing its own:

* ``supervise``      run the process body; READY once it has started, watchdog
                     pings from its event loop, STOPPING and a clean stop on
                     SIGTERM or SIGINT (hub.daemon.supervisor)
* ``restarting``     run a loop again after it failed, logged, on a backoff
                     (hub.daemon.supervisor)
* ``Backoff``        how long to wait before trying again (hub.backoff)
* ``InstanceLock``   one copy per database, naming the holder (hub.instance,
                     on the one flock helper, hub.lockfile)
* ``sdnotify``       the sd_notify protocol (hub.sdnotify)
* ``Clock``          where the kit reads the time and waits (hub.clock), so a
                     test moves time instead of sleeping through a backoff

The web process (``edgehub serve``) is uvicorn's to run and uses only
``sdnotify`` from here.
"""

from __future__ import annotations

from hub import sdnotify
from hub.backoff import Backoff, doubling
from hub.clock import SYSTEM_CLOCK, Clock
from hub.daemon.supervisor import Lifetime, Work, restarting, supervise
from hub.instance import AlreadyRunning, InstanceLock, lock_path

__all__ = [
    "SYSTEM_CLOCK",
    "AlreadyRunning",
    "Backoff",
    "Clock",
    "InstanceLock",
    "Lifetime",
    "Work",
    "doubling",
    "lock_path",
    "restarting",
    "sdnotify",
    "supervise",
]
