"""Rooms to subscriptions, and the two ways an event reaches one: live, or replayed.

Gap-free, duplicate-free delivery rests on one number per subscription, its
high-water mark ``hwm``: every event of the room with ``seq <= hwm`` has been
pushed to the client, none after it. A subscription is in one of three places:

* replaying (``catch_up``): it is in no delivery set, so the tailer skips it;
  it reads its room from the log after ``hwm`` until it has read at least as
  far as the tailer has delivered (``delivered_to``), or, when the gap lies
  within the tailer's last events (``recent``), takes them from memory;
* live: it has ``hwm == delivered_to`` and every later event of its room
  reaches it through the tailer, which delivers each event of the log once,
  in ``seq`` order. A live subscription needs no check per event, so the
  fan-out's work per member is one write;
* parked: it starts ahead of the tailer (``hwm > delivered_to``: its
  snapshot of the log saw a commit the tailer has not delivered yet). The
  tailer gives it only events after its ``hwm`` and makes it live once it has
  delivered that far. Rare, and checked per event only for these.

Moving from replay to live or parked happens with no ``await`` after the
check, so no event can slip past. Events that arrive during a replay are not
buffered: they are in the log, and the next replay page reads them.

Delivery: for each room of a batch of events, each event's frame is built once
(``protocol.event_frame``), the room's frames are joined into chunks of
WebSocket bytes (``wire``), and each chunk is handed to every live member.
Adding and removing a subscription are dict operations: O(1) in the room's size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from hub.clock import parse_iso
from hub.db.store import Store
from hub.events import Event
from hub.web.realtime import records, wire
from hub.web.realtime.protocol import event_frame
from hub.web.realtime.recent import Recent
from hub.web.realtime.send_queue import Outbox
from hub.web.realtime.wire import Chunk

REPLAY_PAGE = 200

_REPLAYING, _LIVE, _PARKED, _GONE = range(4)


class Subscription:
    """One client's interest in one room."""

    __slots__ = ("hwm", "outbox", "room", "state")

    def __init__(self, room: str, outbox: Outbox, hwm: int) -> None:
        self.room = room
        self.outbox = outbox
        self.hwm = hwm
        self.state = _REPLAYING

    @property
    def live(self) -> bool:
        return self.state == _LIVE


class _Room:
    __slots__ = ("live", "parked", "size")

    def __init__(self) -> None:
        # Each live member's ``Outbox.deliver``, bound once: the fan-out's whole work per member.
        self.live: dict[Subscription, Callable[[Chunk], bool]] = {}
        self.parked: dict[Subscription, None] = {}
        self.size = 0  # subscriptions in any state


class Fanout:
    """Every subscription of this process, by room; ``delivered_to`` is the tailer's position."""

    def __init__(self, recent: Recent | None = None) -> None:
        self._rooms: dict[str, _Room] = {}
        # The last events delivered, by room, for replays that start among them.
        self._recent = recent
        self._parked: dict[Subscription, None] = {}
        self._subscriptions = 0
        self.delivered_to = 0
        self.deliveries = 0
        # Work counters (``Realtime.stats``): frames built for the fan-out and
        # replays, and the writes that handed them to clients.
        self.frames_built = 0
        self.writes = 0
        # Told, per event that reached a client, the seconds from its commit to
        # its hand-over to the sockets (``/metrics``); set by ``hub.web.app``.
        self.lag_observer: Callable[[float], None] | None = None
        # perf_counter_ns of the last delivery that wrote anything: its start,
        # its first write (frames built by then), its end.
        self.last_delivery = (0, 0, 0)

    def add(self, sub: Subscription) -> None:
        """Register ``sub`` (replaying); ``catch_up`` makes it live."""
        room = self._rooms.get(sub.room)
        if room is None:
            room = self._rooms[sub.room] = _Room()
        room.size += 1
        self._subscriptions += 1

    def remove(self, sub: Subscription) -> None:
        if sub.state == _GONE:
            return
        state, sub.state = sub.state, _GONE
        room = self._rooms.get(sub.room)
        if room is None:
            return
        if state == _LIVE:
            room.live.pop(sub, None)
        elif state == _PARKED:
            room.parked.pop(sub, None)
            self._parked.pop(sub, None)
        room.size -= 1
        self._subscriptions -= 1
        if room.size <= 0:
            del self._rooms[sub.room]

    def subscriptions(self) -> int:
        return self._subscriptions

    def rooms(self) -> int:
        return len(self._rooms)

    def members(self, room: str) -> int:
        """Live subscriptions of ``room``."""
        found = self._rooms.get(room)
        return len(found.live) if found is not None else 0

    def deliver(self, batch: list[Event]) -> None:
        """Push the next events of the log, in order, to every subscription of their rooms."""
        if not batch:
            return
        started = time.perf_counter_ns()
        first_write = 0
        writes = self.writes
        rooms = self._rooms
        by_room: dict[str, list[tuple[int, str]]] = {}
        reached: list[str] = []
        for record in batch:
            hit = False
            for name in record.rooms:
                room = rooms.get(name)
                if room is None or not (room.live or room.parked):
                    continue
                text = event_frame(record.seq, name, record.event, record.data, record.ts)
                by_room.setdefault(name, []).append((record.seq, text))
                hit = True
            if hit:
                reached.append(record.ts)
        for name, frames in by_room.items():
            room = rooms[name]
            self.frames_built += len(frames)
            if room.live:
                for chunk in wire.chunks([text for _, text in frames]):
                    # A copy: a write never unsubscribes synchronously today, but
                    # the loop must not depend on that.
                    members = list(room.live.values())
                    if not first_write:
                        first_write = time.perf_counter_ns()
                    for deliver in members:
                        deliver(chunk)
                    self.writes += len(members)
                    self.deliveries += len(members) * len(chunk.texts)
            for sub in list(room.parked):
                after = [text for seq, text in frames if seq > sub.hwm]
                if after:
                    sub.hwm = frames[-1][0]
                    for chunk in wire.chunks(after):
                        sub.outbox.deliver(chunk)
                        self.writes += 1
                        self.deliveries += len(chunk.texts)
        if self._recent is not None:
            # With ``delivered_to``, in the same step: the window holds what was delivered.
            self._recent.note(self.delivered_to, batch)
        self.delivered_to = batch[-1].seq
        if self.writes > writes:
            self.last_delivery = (started, first_write or started, time.perf_counter_ns())
        if self._parked:
            for sub in list(self._parked):
                if sub.hwm <= self.delivered_to:
                    self._go_live(sub)
        if self.lag_observer is not None and reached:
            now = datetime.now(UTC)
            for ts in reached:
                self.lag_observer(max(0.0, (now - parse_iso(ts)).total_seconds()))

    async def catch_up(self, sub: Subscription, store: Store) -> int:
        """Replay ``sub.room`` from the log after ``sub.hwm``, then make ``sub`` live.

        Returns the rows read.
        """
        outbox = sub.outbox
        rows = 0
        while self.delivered_to > sub.hwm:
            await outbox.wait_for_space()
            if outbox.closed or sub.state == _GONE:
                return rows
            held = self._recent.after(sub.room, sub.hwm, REPLAY_PAGE) if self._recent else None
            if held is not None:
                # Every event of the room up to ``delivered_to``, and no await
                # from here to ``_go_live``: nothing can be delivered in between.
                self._replay(sub, held)
                sub.hwm = self.delivered_to
                break
            page = await store.read(records.room_page, sub.room, sub.hwm, REPLAY_PAGE)
            if sub.state == _GONE:
                return rows
            rows += len(page.records)
            self._replay(sub, page.records)
            sub.hwm = max(sub.hwm, page.scanned_to)
        self._go_live(sub)
        return rows

    def _replay(self, sub: Subscription, held: list[Event]) -> None:
        """Queue ``held``, events of ``sub.room`` after ``sub.hwm``, for ``sub``."""
        for record in held:
            sub.outbox.push(event_frame(record.seq, sub.room, record.event, record.data, record.ts))
        self.frames_built += len(held)
        self.writes += len(held)

    def _go_live(self, sub: Subscription) -> None:
        """Live if the tailer is exactly at ``sub.hwm``, parked if it is behind. No await here."""
        room = self._rooms.get(sub.room)
        if room is None or sub.state == _GONE:
            return
        if sub.state == _PARKED:
            room.parked.pop(sub, None)
            self._parked.pop(sub, None)
        if sub.hwm <= self.delivered_to:
            sub.state = _LIVE
            room.live[sub] = sub.outbox.deliver
        else:
            sub.state = _PARKED
            room.parked[sub] = None
            self._parked[sub] = None
