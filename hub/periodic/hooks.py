"""Where other modules plug work into the periodic jobs, without this package importing them.

The cache registers a warm-up of what tills ask for first. Each hook has a name (for logs and the
job's note), may be sync or async, and may return a count to report.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from hub.logs import get_logger

log = get_logger("edgehub.jobs")

Hook = Callable[[], "Awaitable[int | None] | int | None"]


class HookList:
    """Named callables run in registration order by one periodic job."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._hooks: dict[str, Hook] = {}

    def register(self, name: str, hook: Hook) -> None:
        """Add (or replace, by name) a hook; safe to call before or after start."""
        self._hooks[name] = hook

    async def run_all(self) -> str:
        """Run every hook; one failing does not stop the others, but fails the run."""
        if not self._hooks:
            return "no hooks registered"
        done: list[str] = []
        failed: list[str] = []
        for name, hook in list(self._hooks.items()):
            try:
                result = hook()
                if inspect.isawaitable(result):
                    result = await result
            except Exception:
                fields = {"kind": self.kind, "hook": name}
                log.error("hook_failed", exc_info=True, **fields)
                failed.append(name)
                continue
            done.append(f"{name}={result}" if result is not None else name)
        if failed:
            raise HookFailed(f"{self.kind} hooks failed: {', '.join(failed)}")
        return ", ".join(done)


class HookFailed(Exception):
    """At least one hook raised; each was logged with its traceback."""


class Hooks:
    """The registration points the jobs offer: ``hooks.cache_warm.register(name, fn)``.

    There is no stale-connection sweep: a WebSocket closes itself on its token's
    expiry (a timer per connection, hub.web.realtime.connection) and on missed pings.
    """

    def __init__(self) -> None:
        self.cache_warm = HookList("cache_warm")
