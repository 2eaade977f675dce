"""The last events the tailer delivered, by room: a short replay is answered from memory.

A client that reconnects with ``since`` usually missed a few seconds: a few
events of its room. Read from the log, that replay is a scan of every event
after ``since`` for the ones naming the room (``events.read_room``), on a
reader thread; after a hub restart or a network blip every till does it at
once, and each scan also walks the ``device.status`` events the storm itself
wrote. The tailer has just handed out those same events, so ``Recent`` keeps
references to the last ``size`` of them, by room, and a replay that starts
inside that window costs no read at all.

What it promises: once it has seen its first batch, every event with
``start < seq <= last`` delivered to a room it keeps is in that room's list,
in ``seq`` order. That holds because the tailer hands over every event of the
log exactly once, in ``seq`` order, and ``note`` is called for each as it is
delivered. Rooms in ``skip`` are not kept (presence: one event per connect,
and nobody replays it on a reconnect); a replay of them always reads the log.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from hub.events import Event


class Recent:
    """Up to ``size`` recent events of the rooms not in ``skip``, each filed under its rooms."""

    __slots__ = ("_by_room", "_order", "_size", "_skip", "start")

    def __init__(self, size: int, skip: Iterable[str] = ()) -> None:
        self._size = size
        self._skip = frozenset(skip)
        self._order: deque[Event] = deque()
        self._by_room: dict[str, deque[Event]] = {}
        # Every kept event after this seq is held; None until the first batch is seen.
        self.start: int | None = None

    def note(self, delivered_to: int, batch: list[Event]) -> None:
        """The tailer delivers ``batch``, the events right after ``delivered_to``."""
        if self.start is None:
            self.start = delivered_to
        skip = self._skip
        by_room = self._by_room
        for record in batch:
            kept = False
            for name in record.rooms:
                if name in skip:
                    continue
                room = by_room.get(name)
                if room is None:
                    room = by_room[name] = deque()
                room.append(record)
                kept = True
            if kept:
                self._order.append(record)
        while len(self._order) > self._size:
            self._forget_oldest()

    def after(self, room: str, seq: int, limit: int) -> list[Event] | None:
        """The events of ``room`` after ``seq`` up to the last noted, oldest first; None when
        the window does not reach back to ``seq``, the room is not kept, or more than
        ``limit`` are due (those go through the log a page at a time)."""
        if self.start is None or seq < self.start or room in self._skip:
            return None
        held = self._by_room.get(room)
        if not held:
            return []
        out: list[Event] = []
        for record in reversed(held):
            if record.seq <= seq:
                break
            if len(out) == limit:
                return None
            out.append(record)
        out.reverse()
        return out

    def __len__(self) -> int:
        return len(self._order)

    def _forget_oldest(self) -> None:
        record = self._order.popleft()
        for name in record.rooms:
            room = self._by_room.get(name)
            if room is None:
                continue
            # Filed in seq order, so the oldest of the window is the oldest of each room.
            room.popleft()
            if not room:
                del self._by_room[name]
        self.start = record.seq
