"""One ``/ws`` connection from accept to close: auth, messages, subscriptions, cleanup.

It speaks raw ASGI (``scope``, ``receive``, ``send``) rather than through
Litestar's ``WebSocket``: every frame of the fan-out goes through ``send``,
and each wrapper layer on it costs about a microsecond per client per event.

The handler task *is* the reader: it takes one client message at a time, so
a subscription's replay finishes before the next message is looked at and a
client cannot race its own subscribe and unsubscribe. Frames go out through
the connection's ``Outbox``, written by whoever produces them (the tailer,
a replay, this reader) without waiting on the client.

Every way out runs ``_finish``: subscriptions leave the fan-out, presence is
told, a blocked send is cancelled, and a close frame is attempted for as long
as a client may go silent before the pings drop it (it has to get through
whatever the client has not read yet). When the outbox gives up on a slow
client, or the token's ``exp`` passes, this task is cancelled, which is how a
reader stuck in ``receive()`` is stopped; that cancellation is ours, so it is
absorbed here and never reaches uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any, cast
from urllib.parse import parse_qsl

from litestar.connection import ASGIConnection
from litestar.types import Receive, Scope, Send

from hub.auth.users import Actor
from hub.logs import get_logger
from hub.web.realtime import protocol, rooms, wire
from hub.web.realtime.admission import BOARD_VIEW
from hub.web.realtime.fanout import Subscription
from hub.web.realtime.host import Host
from hub.web.realtime.presence import Device, kind_for_role
from hub.web.realtime.protocol import ProtocolError
from hub.web.realtime.send_queue import Outbox

log = get_logger("edgehub.realtime")

MAX_ROOMS = 100
_CLIENT = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


class _Budget:
    """A token bucket: ``burst`` at once, then ``rate`` per second."""

    __slots__ = ("_at", "_burst", "_rate", "_tokens")

    def __init__(self, burst: float, rate: float) -> None:
        self._burst = burst
        self._rate = rate
        self._tokens = burst
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Session:
    """The state of one WebSocket client."""

    __slots__ = (
        "_actor",
        "_close_code",
        "_close_reason",
        "_device",
        "_flood",
        "_garbage",
        "_host",
        "_outbox",
        "_peer_gone",
        "_receive",
        "_scope",
        "_self_cancelled",
        "_send",
        "_subs",
        "_task",
        "expiry_slot",
    )

    def __init__(self, host: Host, scope: Scope, receive: Receive, send: Send) -> None:
        self._host = host
        self._scope = scope
        self._receive = receive
        # Plain dicts out: Litestar's TypedDict events add nothing on this path.
        self._send = cast(_Send, send)
        self._task: asyncio.Task[Any] | None = None
        self._actor: Actor | None = None
        self._device: Device | None = None
        self._outbox: Outbox | None = None
        self._subs: dict[str, Subscription] = {}
        self.expiry_slot: int | None = None  # filed by the host's token expiries
        self._close_code: int | None = None
        self._close_reason = ""
        self._self_cancelled = False
        self._peer_gone = False
        # Up to 10 bad messages at once, then one per 6 s; 200 messages at once, then 50/s.
        self._garbage = _Budget(10, 1 / 6)
        self._flood = _Budget(200, 50)

    async def run(self) -> None:
        try:
            # Accept before anything can fail: a close sent before accept
            # reaches the client as an HTTP 403 without our close code.
            if (await self._receive())["type"] != "websocket.connect":
                return
            await self._send({"type": "websocket.accept"})
        except Exception:
            return  # gone during the handshake
        self._task = asyncio.current_task()
        try:
            if await self._open():
                await self._serve()
        except asyncio.CancelledError:
            if not self._self_cancelled or self._task is None:
                raise
            self._task.uncancel()
        except Exception:
            log.exception("ws_session_failed")
            self._close(protocol.CLOSE_INTERNAL, "internal error")
        finally:
            await self._finish()

    def _close(self, code: int, reason: str) -> None:
        """Decide how this connection ends; the first decision wins."""
        if self._close_code is None:
            self._close_code = code
            self._close_reason = reason

    def _end(self, code: int, reason: str) -> None:
        """Stop the reader and close with ``code``: the outbox's verdict on a slow
        client, or the token's expiry, neither of which the reader would notice."""
        self._close(code, reason)
        if self._task is not None and not self._self_cancelled:
            self._self_cancelled = True
            self._task.cancel()

    async def _open(self) -> bool:
        """Authenticate and register; False when the connection is to be closed."""
        query = cast(bytes, self._scope.get("query_string", b""))
        try:
            params = dict(parse_qsl(query.decode("latin-1"), max_num_fields=20))
        except ValueError:
            self._close(protocol.CLOSE_BAD_CLIENT, "too many query parameters")
            return False
        if "token" not in params and params.get("view") == "board":
            return self._open_board_view()
        token = params.get("token") or await self._auth_message()
        # On a copy of the scope with a state of its own: Litestar files its per-connection
        # state object in ``scope["state"]``, which the session would keep for its whole life.
        scope = cast(Scope, {**self._scope, "state": {**self._scope.get("state", {})}})
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        signed_in = await self._host.sign_in(token, connection) if token else None
        if signed_in is None:
            self._close(protocol.CLOSE_UNAUTHORIZED, "unauthorized")
            return False
        actor = signed_in.actor
        client = params.get("client")
        if client is None:
            client = f"ws-{secrets.token_hex(4)}"
        elif not _CLIENT.fullmatch(client):
            self._close(protocol.CLOSE_BAD_CLIENT, "client must be 1-64 of A-Z a-z 0-9 . _ : -")
            return False
        self._actor = actor
        self._device = Device(
            id=f"user:{actor.id}/{client}",
            kind=kind_for_role(actor.role),
            user_id=actor.id,
            user_name=actor.name,
            role=actor.role,
            client=client,
        )
        self._outbox = self._new_outbox()
        if self._outbox.direct:
            wire.forget_handshake(self._send, cast(dict[str, Any], self._scope))
        self._host.online(self, self._device, signed_in.expires_at)
        return True

    def _new_outbox(self) -> Outbox:
        limits = self._host.limits
        return Outbox(
            self._send,
            limit=limits.queue_frames,
            stall_timeout=limits.silence_limit,
            on_give_up=self._end,
        )

    def _open_board_view(self) -> bool:
        """A customer board (``?view=board``): no token, no presence, only the ``board`` room.

        The room carries order numbers and states and nothing else
        (``hub.orders.board``); ``rooms.verdict`` lets ``BOARD_VIEW`` join
        that room and no other.
        """
        self._actor = BOARD_VIEW
        self._outbox = self._new_outbox()
        return True

    def expire(self) -> None:
        """The token's ``exp`` passed (``hub.web.realtime.expiry``): close with 4401.

        There is no extending a socket with a fresh ``auth`` (a second one is
        the documented ``already_authenticated`` error): the client signs in
        again and reconnects with ``since``, and misses nothing.
        """
        self._end(protocol.CLOSE_UNAUTHORIZED, "token expired")

    async def _auth_message(self) -> str | None:
        """The token of a first ``auth`` message sent within ``limits.auth_timeout``, else None."""
        try:
            async with asyncio.timeout(self._host.limits.auth_timeout):
                event = await self._receive()
        except TimeoutError:
            return None
        if event["type"] != "websocket.receive":
            self._peer_gone = True
            return None
        try:
            message = protocol.parse(event)
        except ProtocolError:
            return None
        return message.token if isinstance(message, protocol.Auth) else None

    async def _serve(self) -> None:
        outbox = self._outbox
        assert outbox is not None
        receive = self._receive
        while self._close_code is None:
            event = await receive()
            if event["type"] != "websocket.receive":
                self._peer_gone = True
                return
            if not self._flood.take():
                self._close(protocol.CLOSE_FLOOD, "too many messages")
                return
            try:
                message = protocol.parse(event)
            except ProtocolError as exc:
                outbox.push(protocol.error(exc.code, exc.message))
                if not self._garbage.take():
                    self._close(protocol.CLOSE_BAD_CLIENT, "too many bad messages")
                continue
            if isinstance(message, protocol.Ping):
                outbox.push(protocol.PONG)
            elif isinstance(message, protocol.Subscribe):
                await self._subscribe(outbox, message)
            elif isinstance(message, protocol.Unsubscribe):
                self._unsubscribe(outbox, message.room)
            else:
                outbox.push(
                    protocol.error(protocol.ALREADY_AUTHENTICATED, "this connection is signed in")
                )

    async def _subscribe(self, outbox: Outbox, message: protocol.Subscribe) -> None:
        room = rooms.parse_room(message.room)
        if room is None:
            outbox.push(protocol.error(protocol.UNKNOWN_ROOM, "no such room", room=message.room))
            return
        if room.name not in self._subs and len(self._subs) >= MAX_ROOMS:
            outbox.push(
                protocol.error(
                    protocol.TOO_MANY_ROOMS, f"at most {MAX_ROOMS} rooms", room=room.name
                )
            )
            return
        assert self._actor is not None
        host = self._host
        admission = await host.admit(self._actor, room)
        if admission.actor is None:
            self._close(protocol.CLOSE_FORBIDDEN, "user no longer active")
            return
        self._actor = admission.actor
        if not admission.allowed:
            outbox.push(
                protocol.error(
                    protocol.FORBIDDEN_ROOM,
                    f"a {admission.actor.role} may not join {room.name}",
                    room=room.name,
                )
            )
            return
        previous = self._subs.pop(room.name, None)
        if previous is not None:
            host.leave(previous)
        head = admission.bounds.head
        since = message.since
        if since is not None and not admission.bounds.holds_after(since):
            outbox.push(
                protocol.error(
                    protocol.RESET,
                    "the log no longer holds every event after since: reload this room's "
                    "state, live events follow from seq",
                    room=room.name,
                    since=since,
                    seq=head,
                )
            )
            since = None
        sub = Subscription(room.name, outbox, head if since is None else since)
        self._subs[room.name] = sub
        # ``subscribed`` first, then the replay (if any), then live events.
        outbox.push(protocol.subscribed(room.name, head))
        await host.join(sub)

    def _unsubscribe(self, outbox: Outbox, name: str) -> None:
        room = rooms.parse_room(name)
        sub = self._subs.pop(room.name if room else name, None)
        if sub is None:
            outbox.push(protocol.error(protocol.NOT_SUBSCRIBED, "not subscribed", room=name))
            return
        self._host.leave(sub)
        outbox.push(protocol.unsubscribed(sub.room))

    async def _finish(self) -> None:
        """Leave every room, tell presence, and close the socket if the peer has not."""
        for sub in self._subs.values():
            self._host.leave(sub)
        self._subs.clear()
        self._host.offline(self, self._device)
        if self._outbox is not None:
            await self._outbox.aclose()
            # The outbox holds ``self._end``: dropping it breaks the one reference cycle
            # through this session, so a closed session is freed at once rather than
            # by the collector's next full pass over every connection.
            self._outbox = None
        code = self._close_code
        # Refusals at connect are not logged (anyone can knock); an expiry is.
        if code is not None and (code != protocol.CLOSE_UNAUTHORIZED or self._device is not None):
            log.info(
                "ws_closed",
                device=self._device.id if self._device else None,
                code=code,
                reason=self._close_reason,
            )
        if self._peer_gone:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._host.limits.silence_limit):
                await self._send(
                    {"type": "websocket.close", "code": code or 1000, "reason": self._close_reason}
                )
