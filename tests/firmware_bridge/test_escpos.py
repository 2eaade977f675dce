"""The kitchen ticket renderer: exact bytes, and the rules behind them."""

from __future__ import annotations

import unicodedata
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.escpos import InvalidTicket, render_ticket
from firmware_bridge.escpos_decoder import EscPosDecoder, ReceivedTicket
from tests.firmware_bridge import tickets
from tests.firmware_bridge.golden import check_golden, dump, load
from tests.firmware_bridge.tickets import line, ticket

CET = timezone(timedelta(hours=1))


def printed(data: bytes, columns: int = 42) -> str:
    """The text of the one ticket in ``data``, as the simulated printer reads it."""
    decoder = EscPosDecoder(columns)
    events = decoder.feed(data)
    assert len(events) == 1
    assert isinstance(events[0], ReceivedTicket)
    return events[0].text


def test_golden_simple_ticket() -> None:
    """The everyday ticket's bytes change only when someone means them to."""
    check_golden("simple", render_ticket(tickets.SIMPLE, tz=UTC))


def test_golden_accents() -> None:
    """Accented dish names reach the printer in the code page it was told to use."""
    check_golden("accents", render_ticket(tickets.ACCENTS, tz=CET))


def test_golden_long_name_wraps() -> None:
    """A long dish name wraps under itself instead of running off the paper."""
    check_golden("long_name", render_ticket(tickets.LONG_NAME, tz=UTC))


def test_golden_backup_reprint() -> None:
    """Cooks must see that a ticket is a backup copy or a reprint, not a new order."""
    check_golden("backup_reprint", render_ticket(tickets.BACKUP_REPRINT, tz=UTC))


def test_golden_cancel() -> None:
    """A cancellation must never be mistaken for an order to cook."""
    check_golden("cancel", render_ticket(tickets.CANCEL, tz=UTC))


def test_golden_unencodable() -> None:
    """Emoji and other scripts print as '?' instead of garbage or a crash."""
    check_golden("unencodable", render_ticket(tickets.UNENCODABLE, tz=UTC))


def test_golden_files_keep_every_byte() -> None:
    """The golden file format must be lossless, or the golden tests prove nothing."""
    data = bytes(range(256)) + b"\n" * 3 + b"#tail"
    assert load(dump(data)) == data


def test_accented_ticket_reads_back_as_written() -> None:
    """What the kitchen reads is what the till sent, accents included."""
    text = printed(render_ticket(tickets.ACCENTS, tz=CET))
    for name in ("Crème brûlée", "Jalapeño poppers", "Ärtsoppa", "Façade salad", "2 €"):
        assert name in text


def test_decomposed_accents_print_like_composed_ones() -> None:
    """A till that sends 'e' + combining accent must not print 'e?'."""
    composed = ticket(lines=[line("Crème brûlée")])
    decomposed = ticket(lines=[line(unicodedata.normalize("NFD", "Crème brûlée"))])
    assert render_ticket(decomposed, tz=UTC) == render_ticket(composed, tz=UTC)


def test_text_cannot_inject_printer_commands() -> None:
    """A note typed at the till must not cut the paper or open the cash drawer."""
    evil = "\x1dV\x00\x1bp\x00\x19\xfa\x10\x04\x01\x1b@"
    data = render_ticket(ticket(order={"note": evil}, lines=[line(evil, note=evil)]), tz=UTC)
    assert data.count(b"\x1dV") == 1
    assert b"\x1bp" not in data
    assert b"\x10\x04" not in data
    assert data.count(b"\x1b@") == 1


def test_identical_lines_are_grouped_with_summed_quantity() -> None:
    """Two identical lines read as one count, so the cook does not miss one."""
    payload = ticket(
        lines=[
            line("Fries", "2.000"),
            line("Cola", "1"),
            line("Fries", "1"),
            line("Fries", "1", note="no salt"),
        ]
    )
    text = printed(render_ticket(payload, tz=UTC))
    assert "3 x Fries\n1 x Cola\n1 x Fries\n    ! no salt\n" in text


@pytest.mark.parametrize(
    ("qty", "shown"),
    [("10", "10"), ("0.50", "0.5"), ("1.25", "1.25"), ("1E+2", "100"), ("0.33333", "0.333")],
)
def test_quantities_print_plainly(qty: str, shown: str) -> None:
    """A cook reads '10' and '0.5', never '1E+1', '0.50' or a row of decimals."""
    text = printed(render_ticket(ticket(lines=[line("Soup", qty)]), tz=UTC))
    assert f"\n{shown} x Soup\n" in text


def test_naive_time_is_printed_as_given() -> None:
    """A time without an offset is already local and must not be shifted."""
    text = printed(render_ticket(ticket(created_at="2025-03-14T18:05:00"), tz=UTC))
    assert text.splitlines()[1].endswith("18:05")


def test_time_is_shown_in_the_kitchen_zone() -> None:
    """The hub stores UTC; the kitchen reads its own clock."""
    text = printed(render_ticket(ticket(created_at="2025-03-14T23:59:00Z"), tz=CET))
    assert text.splitlines()[1].endswith("00:59")


@pytest.mark.parametrize(
    "change",
    [
        {"job_id": None},
        {"order": "demo-0001-0007"},
        {"kind": "refund"},
        {"lines": "Fries"},
        {"lines": [{"name": "Fries", "qty": "many", "note": "", "modifiers": []}]},
        {"lines": [{"name": "Fries", "qty": "-1", "note": "", "modifiers": []}]},
        {"lines": [{"name": "Fries", "qty": "NaN", "note": "", "modifiers": []}]},
        {"lines": [{"name": "Fries", "qty": "1e999999", "note": "", "modifiers": []}]},
        {"lines": [{"name": "Fries", "qty": "1", "note": "", "modifiers": "salt"}]},
        {"created_at": "yesterday"},
        {"backup": "yes"},
    ],
)
def test_bad_payloads_are_refused_with_the_field_named(change: dict[str, Any]) -> None:
    """A malformed job must fail loudly, not print a half-right ticket."""
    payload = ticket()
    payload.update(change)
    with pytest.raises(InvalidTicket):
        render_ticket(payload, tz=UTC)


def test_order_number_must_not_be_a_boolean() -> None:
    """JSON true is an int to Python but never an order number."""
    with pytest.raises(InvalidTicket, match=r"order\.number"):
        render_ticket(ticket(order={"number": True}), tz=UTC)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(max_size=200),
    note=st.text(max_size=200),
    modifier=st.text(max_size=120),
    station=st.text(max_size=60),
    columns=st.integers(min_value=32, max_value=64),
)
def test_no_printed_line_is_wider_than_the_paper(
    name: str, note: str, modifier: str, station: str, columns: int
) -> None:
    """Any text the till sends fits the paper, or lines would wrap where nobody planned."""
    payload = ticket(
        station=station,
        order={"note": note, "name": name[:30]},
        lines=[line(name, note=note, modifiers=[modifier])],
    )
    for row in printed(render_ticket(payload, columns=columns, tz=UTC), columns).splitlines():
        assert len(row) <= columns
