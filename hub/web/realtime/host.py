"""What one connection needs of the process that serves it: the ``Host`` interface.

``connection.Session`` is written against this, not against ``Realtime``:
the session module imports nothing of the service, the service builds
sessions and is their host (``service.Realtime`` implements every method
here). Each method is one thing a client does to the process (sign in, come
online, be admitted to a room, join it, leave it, go), so the registries
behind them (presence, token expiry, the fan-out, the store and its
counters) stay the service's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from litestar.connection import ASGIConnection

from hub.auth.users import Actor
from hub.web.realtime.admission import Admission
from hub.web.realtime.expiry import Expiring
from hub.web.realtime.fanout import Subscription
from hub.web.realtime.presence import Device
from hub.web.realtime.rooms import Room


@dataclass(frozen=True, slots=True)
class SignIn:
    """Who a token names, and until when it may keep a connection open."""

    actor: Actor
    # The token's ``exp`` in seconds since the epoch; None: it never expires
    # (no ``exp`` claim, or the hub configured not to verify expiry).
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class Limits:
    """How far a client may fall behind, in frames, how long it may take nothing, and
    how long one without ?token= has to send its auth message, in s."""

    queue_frames: int
    silence_limit: float
    auth_timeout: float


class Host(Protocol):
    """The process side of a connection."""

    @property
    def limits(self) -> Limits: ...

    async def sign_in(
        self, token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> SignIn | None:
        """The active user a JWT names; None when it names none."""

    def online(self, session: Expiring, device: Device, expires_at: float | None) -> None:
        """A signed-in device came: presence, and its token's expiry watched."""

    def offline(self, session: Expiring, device: Device | None) -> None:
        """A connection ended, signed in (``device``) or not."""

    async def admit(self, actor: Actor, room: Room) -> Admission:
        """May ``actor`` join ``room`` now, and what the log holds."""

    async def join(self, sub: Subscription) -> None:
        """Add ``sub`` to its room, replay it from its ``hwm``, make it live."""

    def leave(self, sub: Subscription) -> None:
        """Take ``sub`` out of its room (O(1))."""
