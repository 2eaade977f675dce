"""``Realtime``: the WebSocket side of one hub process, and the owner of its tasks.

Built by ``create_app`` and entered in the lifespan (``running()``): it
starts the tailer at the log's head, folds recent ``device.status`` events
into presence, then runs three tasks it cancels and awaits at shutdown: the
tailer, the presence announcer and, when ``EDGEHUB_REDIS_URL`` is set, the
Redis doorbell. Each worker of ``edgehub serve --workers N`` has its own.

It is the ``Host`` of every connection (``hub.web.realtime.host``): sessions see
the process only through that interface, so ``connection`` does not import
this module, and the registries (presence, expiries, fan-out) change here.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.types import Receive, Scope, Send

from hub import events
from hub.auth.users import Actor
from hub.db.store import Store
from hub.logs import get_logger, redact
from hub.settings import Settings
from hub.web.realtime import admission, handshake, records
from hub.web.realtime.announcer import ROOMS as PRESENCE_ROOMS
from hub.web.realtime.announcer import Announcer
from hub.web.realtime.connection import Session
from hub.web.realtime.expiry import Expiries, Expiring
from hub.web.realtime.fanout import Fanout, Subscription
from hub.web.realtime.host import Limits, SignIn
from hub.web.realtime.presence import Device, Presence, this_worker
from hub.web.realtime.recent import Recent
from hub.web.realtime.rooms import Room
from hub.web.realtime.tailer import Tailer
from hub.web.realtime.wakeup import RedisWakeup, channel_for

if TYPE_CHECKING:
    from litestar.security.jwt import JWTAuth, Token

log = get_logger("edgehub.realtime")

# How far back in the log a starting worker looks for the other workers' clients.
PRESENCE_WINDOW = 50_000
ANNOUNCER_STOP_TIMEOUT = 10.0
# Events kept in memory for replays (``hub.web.realtime.recent``): a reconnect storm's
# gap is a few of them; at ~1 KiB each (an order), about 1 MiB at most.
RECENT_EVENTS = 1024


class Realtime:
    """Fan-out, presence and the tasks behind them, for one process."""

    def __init__(self, settings: Settings, store: Store, jwt_auth: JWTAuth[Actor, Token]) -> None:
        self.settings = settings
        self.store = store
        self.jwt_auth = jwt_auth
        self.worker_id = this_worker()
        # How long a client may take nothing from us before it counts as dead:
        # as long as uvicorn's pings let it go unanswered.
        self.silence_limit = settings.realtime.ping_interval + settings.realtime.ping_timeout
        self.limits = Limits(
            settings.realtime.queue_frames, self.silence_limit, settings.realtime.auth_timeout
        )
        self.fanout = Fanout(Recent(RECENT_EVENTS, skip=PRESENCE_ROOMS))
        self.expiries = Expiries()
        # Rows the subscriptions read from the log and the users (admission, replays).
        self.rows_read = 0
        self.announcer = Announcer(store)
        self.presence = Presence(self.worker_id, self.announcer.announce)
        self.tailer = Tailer(
            store, self.fanout, settings.realtime.poll_interval, [self.presence.observe]
        )
        self.wakeup = (
            RedisWakeup(
                settings.redis.url,
                channel_for(settings.store.code),
                self.worker_id,
                self.tailer.wake,
            )
            if settings.redis.url
            else None
        )
        store.on_write(self._after_local_write)

    def _after_local_write(self) -> None:
        self.tailer.wake()
        if self.wakeup is not None:
            self.wakeup.ring()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start the tasks; on exit, flush presence and stop them."""
        _redact_tokens_in_server_log()
        handshake.install()
        self.fanout.delivered_to = await self.store.read(events.head)
        for record in await self.store.read(records.recent_of, "device.status", PRESENCE_WINDOW):
            self.presence.observe(record)
        announcer = asyncio.create_task(self.announcer.run(), name="ws-announcer")
        others = [asyncio.create_task(self.tailer.run(), name="ws-tailer")]
        if self.wakeup is not None:
            others.append(asyncio.create_task(self.wakeup.run(), name="ws-redis"))
        try:
            yield
        finally:
            # By now uvicorn has closed every WebSocket and waited for the
            # handlers, so the last "offline" announcements are queued.
            self.announcer.stop()
            try:
                async with asyncio.timeout(ANNOUNCER_STOP_TIMEOUT):
                    await announcer
            except TimeoutError:
                announcer.cancel()
            for task in others:
                task.cancel()
            await asyncio.gather(announcer, *others, return_exceptions=True)

    def serve(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        """Run one ``/ws`` connection to its end (the session's own coroutine, to be awaited:
        no frame of ours stays between uvicorn and the session for the connection's life)."""
        return Session(self, scope, receive, send).run()

    # The ``Host`` of each session (``hub.web.realtime.host``).

    def online(self, session: Expiring, device: Device, expires_at: float | None) -> None:
        self.presence.connected(device)
        if expires_at is not None:
            self.expiries.watch(session, expires_at)

    def offline(self, session: Expiring, device: Device | None) -> None:
        self.expiries.forget(session)
        if device is not None:
            self.presence.disconnected(device)

    async def admit(self, actor: Actor, room: Room) -> admission.Admission:
        verdict = await self.store.read_small(admission.admit, actor, room)
        self.rows_read += verdict.rows
        return verdict

    async def join(self, sub: Subscription) -> None:
        self.fanout.add(sub)
        self.rows_read += await self.fanout.catch_up(sub, self.store)

    def leave(self, sub: Subscription) -> None:
        self.fanout.remove(sub)

    async def sign_in(
        self, token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> SignIn | None:
        """The active user a JWT names, checked as the HTTP middleware checks a bearer token."""
        auth = self.jwt_auth
        try:
            decoded = auth.token_cls.decode(
                encoded_token=token,
                secret=auth.token_secret,
                algorithm=auth.algorithm,
                audience=auth.accepted_audiences,
                issuer=auth.accepted_issuers,
                require_claims=auth.require_claims,
                verify_exp=auth.verify_expiry,
                verify_nbf=auth.verify_not_before,
                strict_audience=auth.strict_audience,
            )
        except NotAuthorizedException:
            return None
        if auth.revoked_token_handler is not None:
            revoked = auth.revoked_token_handler(decoded, connection)
            if await revoked if inspect.isawaitable(revoked) else revoked:
                return None
        actor = auth.retrieve_user_handler(decoded, connection)
        if inspect.isawaitable(actor):
            actor = await actor
        if not isinstance(actor, Actor):
            return None
        # Litestar's Token requires exp; a token class that does not may leave it out.
        exp = getattr(decoded, "exp", None)
        expires = exp.timestamp() if auth.verify_expiry and isinstance(exp, datetime) else None
        return SignIn(actor, expires)

    def stats(self) -> dict[str, Any]:
        """Counters for status pages and tests."""
        return {
            "worker": self.worker_id,
            "clients": self.presence.local_count(),
            "subscriptions": self.fanout.subscriptions(),
            "rooms": self.fanout.rooms(),
            "delivered_to": self.fanout.delivered_to,
            "deliveries": self.fanout.deliveries,
            "frames_built": self.fanout.frames_built,
            "writes": self.fanout.writes,
            "rows_read": self.rows_read,
            "last_fanout": self.tailer.last_timing,
            "redis": "off" if self.wakeup is None else ("ok" if self.wakeup.up else "down"),
        }


class _RedactTokens(logging.Filter):
    """uvicorn logs each WebSocket's path with its query string: hide ``?token=``.

    Its own handlers may format the line, not ours, so the arguments are
    redacted here, by the same rules as every hub log line (``hub.logs.redact``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def _redact_tokens_in_server_log() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _RedactTokens) for f in logger.filters):
        logger.addFilter(_RedactTokens())
