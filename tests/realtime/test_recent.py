"""``Recent``: the tailer's last events by room answer a replay exactly as the log would,
or not at all."""

from __future__ import annotations

from hub.events import Event
from hub.web.realtime.recent import Recent


def event(seq: int, *rooms: str) -> Event:
    return Event(seq, "order.created", "2026-01-01T00:00:00Z", rooms, "{}")


def seqs(found: list[Event] | None) -> list[int] | None:
    return None if found is None else [r.seq for r in found]


def test_a_room_gets_its_own_events_after_a_seq_in_order() -> None:
    """Only the room's events, only those after ``seq``, oldest first."""
    recent = Recent(100)
    recent.note(10, [event(11, "store", "session:1"), event(12, "store"), event(14, "session:1")])
    assert seqs(recent.after("session:1", 10, 50)) == [11, 14]
    assert seqs(recent.after("session:1", 11, 50)) == [14]
    assert seqs(recent.after("store", 10, 50)) == [11, 12]
    assert seqs(recent.after("session:1", 14, 50)) == []
    assert seqs(recent.after("kitchen", 10, 50)) == []


def test_nothing_is_answered_from_before_the_window() -> None:
    """Before the first batch it saw, or before what it let go, the log must answer."""
    recent = Recent(2)
    assert recent.after("store", 0, 50) is None
    recent.note(10, [event(11, "store")])
    assert recent.after("store", 9, 50) is None
    recent.note(11, [event(12, "store"), event(13, "store")])
    assert len(recent) == 2
    assert recent.after("store", 10, 50) is None  # 11 was let go
    assert seqs(recent.after("store", 11, 50)) == [12, 13]


def test_skipped_rooms_are_never_answered_and_take_no_room() -> None:
    """Presence is not kept: its replays read the log, and it does not push orders out."""
    recent = Recent(2, skip=["devices"])
    recent.note(10, [event(11, "store"), event(12, "devices"), event(13, "devices"), event(14)])
    assert recent.after("devices", 10, 50) is None
    assert len(recent) == 1
    assert seqs(recent.after("store", 10, 50)) == [11]


def test_more_than_a_page_goes_to_the_log() -> None:
    """A long gap is replayed a page at a time, with backpressure, through the log."""
    recent = Recent(100)
    recent.note(0, [event(n, "store") for n in range(1, 11)])
    assert recent.after("store", 0, 9) is None
    assert seqs(recent.after("store", 1, 9)) == list(range(2, 11))
