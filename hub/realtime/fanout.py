"""Rooms to subscriptions, and the two ways an event reaches one: live, or replayed.

Gap-free, duplicate-free delivery rests on one number per subscription, its
high-water mark ``hwm``: every event of the room with ``seq <= hwm`` has been
pushed to the client, none after it. Both paths respect it:

* live: the tailer delivers each event of the log once, in ``seq`` order,
  and moves ``delivered_to``; a live subscription takes an event only if
  ``seq > hwm`` and then raises ``hwm`` to it;
* replay (``catch_up``): a new subscription is registered *not live*, so the
  tailer skips it, and reads its room from the log after ``hwm`` until it has
  read at least as far as the tailer has delivered. The check and the switch
  to live happen with no ``await`` between them, so no event can slip past:
  everything up to ``hwm`` came from the log, everything after will come from
  the tailer, which has not gone beyond ``hwm`` yet.

Events that arrive during a replay are not buffered: they are in the log, and
the next replay page reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hub.clock import parse_iso
from hub.db.store import Store
from hub.realtime import records
from hub.realtime.outbox import Outbox
from hub.realtime.protocol import event_frame

REPLAY_PAGE = 200


class Subscription:
    """One client's interest in one room."""

    __slots__ = ("hwm", "live", "outbox", "room")

    def __init__(self, room: str, outbox: Outbox, hwm: int) -> None:
        self.room = room
        self.outbox = outbox
        self.hwm = hwm
        self.live = False


class Fanout:
    """Every subscription of this process, by room; ``delivered_to`` is the tailer's position."""

    def __init__(self) -> None:
        self._rooms: dict[str, set[Subscription]] = {}
        self.delivered_to = 0
        self.deliveries = 0
        # Told, per event that reached a client, the seconds from its commit to
        # its hand-over to the sockets (``/metrics``); set by ``hub.app``.
        self.lag_observer: Callable[[float], None] | None = None

    def add(self, sub: Subscription) -> None:
        self._rooms.setdefault(sub.room, set()).add(sub)

    def remove(self, sub: Subscription) -> None:
        subs = self._rooms.get(sub.room)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._rooms[sub.room]

    def subscriptions(self) -> int:
        return sum(len(s) for s in self._rooms.values())

    def rooms(self) -> int:
        return len(self._rooms)

    def deliver(self, record: records.Record) -> None:
        """Push one event, the next of the log, to every live subscription of its rooms."""
        seq = record.seq
        delivered = self.deliveries
        for room in record.rooms:
            subs = self._rooms.get(room)
            if not subs:
                continue
            # One message for the whole room: the server only reads it.
            message = {
                "type": "websocket.send",
                "text": event_frame(seq, room, record.event, record.data, record.ts),
            }
            # A copy: a push never unsubscribes synchronously today, but the
            # loop must not depend on that.
            for sub in tuple(subs):
                if sub.live and seq > sub.hwm:
                    sub.hwm = seq
                    if sub.outbox.push_message(message):
                        self.deliveries += 1
        self.delivered_to = seq
        if self.lag_observer is not None and self.deliveries > delivered:
            lag = (datetime.now(UTC) - parse_iso(record.ts)).total_seconds()
            self.lag_observer(max(0.0, lag))

    async def catch_up(self, sub: Subscription, store: Store) -> None:
        """Replay ``sub.room`` from the log after ``sub.hwm``, then make ``sub`` live."""
        outbox = sub.outbox
        while self.delivered_to > sub.hwm:
            await outbox.wait_for_space()
            if outbox.closed:
                return
            page = await store.read(records.room_page, sub.room, sub.hwm, REPLAY_PAGE)
            for record in page.records:
                outbox.push(event_frame(record.seq, sub.room, record.event, record.data, record.ts))
            sub.hwm = max(sub.hwm, page.scanned_to)
        sub.live = True
