"""A kitchen ticket, as the printer needs it: ESC/POS bytes.

The MQTT job payload (see "Topics and payloads" in docs/kitchen.md) becomes one ticket
that ends in a partial cut. Rendering is pure: the same payload, width and time
zone always give the same bytes, so a retried job prints the same paper and the
golden tests can pin every byte.

Text goes out in code page PC858 (``ESC t 19``: PC850 plus the euro sign),
which covers Western European accents. Anything it cannot encode prints as
``?``. Control characters in names and notes are removed first, so text typed
at a till can never smuggle a printer command (a cut, a drawer kick) onto the
wire.

* InvalidTicket (ValueError)   the payload lacks a field or has one of the wrong type
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal, TypeVar

DEFAULT_COLUMNS = 42
"""Characters per line in Font A on 80 mm paper."""

MIN_COLUMNS = 32
"""Font A on 58 mm paper; narrower and the double-size cancel mark would not fit."""

CODE_PAGE = 19
"""``ESC t`` table number of PC858 on Epson-compatible printers."""

CODEC = "cp858"

ESC = b"\x1b"
GS = b"\x1d"
LF = b"\n"

INIT = ESC + b"@"
SELECT_CODE_PAGE = ESC + b"t" + bytes([CODE_PAGE])
BOLD_ON = ESC + b"E\x01"
BOLD_OFF = ESC + b"E\x00"
INVERT_ON = GS + b"B\x01"
INVERT_OFF = GS + b"B\x00"
DOUBLE_SIZE = GS + b"!\x11"
NORMAL_SIZE = GS + b"!\x00"
ALIGN_LEFT = ESC + b"a\x00"
ALIGN_CENTER = ESC + b"a\x01"
CUT_FEED = 3
"""Motion units fed past the cutting position before the partial cut."""
PARTIAL_CUT = GS + b"V" + bytes([66, CUT_FEED])

_T = TypeVar("_T")

MAX_QTY = Decimal(1_000_000)
QTY_STEP = Decimal("0.001")

ITEM_INDENT = 4
"""Modifiers and line notes sit this far in, under their item."""


class InvalidTicket(ValueError):
    """The job payload cannot be printed: a field is missing or has the wrong type."""


@dataclass(frozen=True)
class TicketLine:
    """One item for the station: quantity, name, and what the cook must know about it."""

    name: str
    qty: Decimal
    note: str
    modifiers: tuple[str, ...]


@dataclass(frozen=True)
class Ticket:
    """A kitchen job payload, checked and typed."""

    job_id: str
    order_name: str
    order_number: int
    order_note: str
    table: str | None
    station: str
    lines: tuple[TicketLine, ...]
    created_at: datetime
    kind: Literal["new", "cancel"]
    backup: bool
    reprint: bool

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> Ticket:
        """Check a decoded MQTT job payload; raise InvalidTicket naming the first bad field."""
        order = payload.get("order")
        if not isinstance(order, Mapping):
            raise InvalidTicket("order must be an object")
        kind = _field(payload, "kind", str)
        if kind not in ("new", "cancel"):
            raise InvalidTicket(f"kind must be 'new' or 'cancel', not {kind!r}")
        raw_lines = _field(payload, "lines", list)
        table = order.get("table")
        if table is not None and not isinstance(table, str):
            raise InvalidTicket("order.table must be a string or null")
        created_at = _field(payload, "created_at", str)
        try:
            created = datetime.fromisoformat(created_at)
        except ValueError:
            raise InvalidTicket(f"created_at is not ISO 8601: {created_at!r}") from None
        return cls(
            job_id=_field(payload, "job_id", str),
            order_name=_field(order, "name", str, where="order."),
            order_number=_field(order, "number", int, where="order."),
            order_note=_optional_str(order, "note", where="order."),
            table=table,
            station=_field(payload, "station", str),
            lines=tuple(_line(raw, i) for i, raw in enumerate(raw_lines)),
            created_at=created,
            kind="cancel" if kind == "cancel" else "new",
            backup=_flag(payload, "backup"),
            reprint=_flag(payload, "reprint"),
        )


def render_ticket(
    payload: Mapping[str, object],
    *,
    columns: int = DEFAULT_COLUMNS,
    tz: tzinfo | None = None,
) -> bytes:
    """Render a kitchen job payload to ESC/POS bytes, ending in a partial cut.

    ``tz`` is the zone the kitchen reads the time in; ``None`` means the
    hub box's local zone. A naive ``created_at`` is taken as already local.
    """
    if columns < MIN_COLUMNS:
        raise ValueError(f"columns={columns} is narrower than {MIN_COLUMNS}")
    return _render(Ticket.from_payload(payload), columns, tz)


def _render(ticket: Ticket, columns: int, tz: tzinfo | None) -> bytes:
    out = bytearray(INIT + SELECT_CODE_PAGE + ALIGN_CENTER)
    if ticket.kind == "cancel":
        out += _mark("*** CANCEL ***", double=True)
    if ticket.backup:
        out += _mark(" BACKUP ", double=False)
    if ticket.reprint:
        out += _mark(" REPRINT ", double=False)
    out += DOUBLE_SIZE + _encode(f"#{ticket.order_number}") + LF + NORMAL_SIZE + ALIGN_LEFT

    header = _spread(ticket.station, _clock(ticket.created_at, tz), columns)
    out += BOLD_ON + _encode(header) + LF + BOLD_OFF
    table = f"Table {ticket.table}" if ticket.table else ""
    out += _encode(_spread(ticket.order_name, table, columns)) + LF
    for text in _wrap("Note: ", ticket.order_note, columns, indent=len("Note: ")):
        out += _encode(text) + LF
    out += _encode("-" * columns) + LF

    pad = " " * ITEM_INDENT
    for line in _grouped(ticket.lines):
        head = f"{_quantity(line.qty)} x "
        out += BOLD_ON
        for text in _wrap(head, line.name, columns, indent=len(head)) or [head.rstrip()]:
            out += _encode(text) + LF
        out += BOLD_OFF
        for modifier in line.modifiers:
            for text in _wrap(f"{pad}+ ", modifier, columns, indent=ITEM_INDENT + 2):
                out += _encode(text) + LF
        for text in _wrap(f"{pad}! ", line.note, columns, indent=ITEM_INDENT + 2):
            out += _encode(text) + LF

    out += _encode("-" * columns) + LF
    out += _encode(f"job {ticket.job_id}"[:columns]) + LF
    if ticket.kind == "cancel":
        out += ALIGN_CENTER + _mark("*** CANCEL ***", double=True) + ALIGN_LEFT
    out += PARTIAL_CUT
    return bytes(out)


def _mark(text: str, *, double: bool) -> bytes:
    """A line the cook cannot miss: bold, white on black, optionally double size."""
    size_on, size_off = (DOUBLE_SIZE, NORMAL_SIZE) if double else (b"", b"")
    return INVERT_ON + BOLD_ON + size_on + _encode(text) + LF + size_off + BOLD_OFF + INVERT_OFF


def _grouped(lines: Sequence[TicketLine]) -> list[TicketLine]:
    """Merge lines the cook would make the same way, summing quantities, in first-seen order."""
    merged: dict[tuple[str, str, tuple[str, ...]], TicketLine] = {}
    for line in lines:
        key = (line.name, line.note, line.modifiers)
        seen = merged.get(key)
        merged[key] = line if seen is None else replace(seen, qty=seen.qty + line.qty)
    return list(merged.values())


def _quantity(qty: Decimal) -> str:
    """At most three decimals (grams of a kilo) and no exponent: '10', not '1E+1'."""
    return format(qty.quantize(QTY_STEP, ROUND_HALF_UP).normalize(), "f")


def _clock(created_at: datetime, tz: tzinfo | None) -> str:
    if created_at.tzinfo is not None:
        created_at = created_at.astimezone(tz)
    return created_at.strftime("%H:%M")


def _spread(left: str, right: str, columns: int) -> str:
    """Left text and right text on one line; the left side gives way when both do not fit."""
    left, right = _printable(left), _printable(right)[:columns]
    room = columns - len(right) - (1 if right else 0)
    left = left[: max(room, 0)]
    return left + " " * (columns - len(left) - len(right)) + right if right else left


def _wrap(head: str, text: str, columns: int, *, indent: int) -> list[str]:
    """``head`` then ``text`` wrapped at ``columns``; continuation lines start at ``indent``."""
    text = _printable(text).strip()
    if not text:
        return []
    return textwrap.wrap(
        text,
        width=columns,
        initial_indent=head,
        subsequent_indent=" " * indent,
        break_on_hyphens=False,
    )


def _printable(text: str) -> str:
    """What the printer will show: composed accents, no control characters, ``?`` for the rest.

    Each character left maps to exactly one byte in the code page, so the
    length of the result is its width on paper and wrapping can count on it.
    """
    text = unicodedata.normalize("NFC", text)
    kept = []
    for char in text:
        if char in "\t\n\r\v\f":
            kept.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf") or _is_emoji_decoration(char):
            continue
        else:
            kept.append(char)
    return "".join(kept).encode(CODEC, "replace").decode(CODEC)


def _is_emoji_decoration(char: str) -> bool:
    """Variation selectors and skin tones: invisible parts of an emoji, not a '?' each."""
    point = ord(char)
    return 0xFE00 <= point <= 0xFE0F or 0x1F3FB <= point <= 0x1F3FF or 0xE0100 <= point <= 0xE01EF


def _encode(text: str) -> bytes:
    return _printable(text).encode(CODEC)


def _line(raw: object, index: int) -> TicketLine:
    if not isinstance(raw, Mapping):
        raise InvalidTicket(f"lines[{index}] must be an object")
    qty_text = _field(raw, "qty", str, where=f"lines[{index}].")
    try:
        qty = Decimal(qty_text)
    except InvalidOperation:
        raise InvalidTicket(f"lines[{index}].qty is not a decimal: {qty_text!r}") from None
    if not qty.is_finite() or qty <= 0 or qty >= MAX_QTY:
        raise InvalidTicket(f"lines[{index}].qty must be in (0, {MAX_QTY}), not {qty_text!r}")
    modifiers = raw.get("modifiers", [])
    if not isinstance(modifiers, list) or not all(isinstance(m, str) for m in modifiers):
        raise InvalidTicket(f"lines[{index}].modifiers must be a list of strings")
    return TicketLine(
        name=_field(raw, "name", str, where=f"lines[{index}]."),
        qty=qty,
        note=_optional_str(raw, "note", where=f"lines[{index}]."),
        modifiers=tuple(modifiers),
    )


def _field(data: Mapping[str, object], key: str, kind: type[_T], *, where: str = "") -> _T:
    value = data.get(key)
    # bool is an int to isinstance; a JSON true is never an order number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidTicket(f"{where}{key} must be a {kind.__name__}, not {type(value).__name__}")
    return value


def _flag(data: Mapping[str, object], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise InvalidTicket(f"{key} must be true or false")
    return value


def _optional_str(data: Mapping[str, object], key: str, *, where: str = "") -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidTicket(f"{where}{key} must be a string")
    return value
