"""ESC/POS bytes back into what a printer would print: plain text tickets.

The inverse of ``escpos`` as far as a kitchen needs, for the printer
simulator and its tests. It decodes the code page chosen with ESC t,
interprets what changes the text on paper (ESC @, ESC !, ESC a, GS !, LF,
ESC d, cuts) and skips every other command by its length, images and
barcodes included. Real-time status requests (DLE EOT n) are not print data:
they come out as events for the caller to answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CODE_PAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
}
"""``ESC t n`` table numbers of Epson printers, and the Python codec for each."""

MAX_TICKET_BYTES = 1 << 20
"""A client that never cuts gets its data ended here, so garbage cannot eat memory."""

# Parameter bytes after ESC x / GS x for the fixed-length commands the decoder
# skips or interprets. Anything not listed is skipped as a two-byte command.
_ESC_ARGS = {
    b"@": 0, b"2": 0, b"<": 0, b"i": 0, b"m": 0, b"L": 0, b"S": 0, b"!": 1, b"-": 1,
    b"3": 1, b"=": 1, b"?": 1, b"E": 1, b"G": 1, b"J": 1, b"M": 1, b"R": 1, b"T": 1,
    b"U": 1, b"V": 1, b"a": 1, b"d": 1, b"e": 1, b"r": 1, b"t": 1, b"{": 1, b" ": 1,
    b"%": 1, b"$": 2, b"\\": 2, b"c": 2, b"p": 3, b"W": 8,
}  # fmt: skip
_GS_ARGS = {
    b"!": 1, b"B": 1, b"H": 1, b"I": 1, b"a": 1, b"b": 1, b"f": 1, b"h": 1, b"r": 1,
    b"w": 1, b"/": 1, b"$": 2, b"L": 2, b"P": 2, b"W": 2, b"\\": 2,
}  # fmt: skip

ESC, GS, DLE = 0x1B, 0x1D, 0x10


@dataclass(frozen=True)
class ReceivedTicket:
    """What came out of the printer: the text as it would read on paper, and the bytes."""

    text: str
    raw: bytes


@dataclass(frozen=True)
class StatusRequest:
    """A DLE EOT n real-time request, to be answered at once."""

    n: int


@dataclass
class _Line:
    chars: list[str] = field(default_factory=list)
    width: int = 0
    align: int = 0


class EscPosDecoder:
    """Turns an ESC/POS byte stream into tickets and status requests, incrementally.

    ``feed`` accepts any bytes, split anywhere, and never raises: a command cut
    in two by the network waits for its second half, and an unknown one is
    skipped. Long data blocks (images, barcodes) are skipped by count, not
    buffered.
    """

    def __init__(self, columns: int = 42) -> None:
        self.columns = columns
        self._pending = bytearray()
        self._skip = 0
        self._skip_to_nul = False
        self._codec = "cp437"
        self._width = 1
        self._align = 0
        self._lines: list[str] = []
        self._line = _Line()
        self._raw = bytearray()

    def feed(self, data: bytes) -> list[ReceivedTicket | StatusRequest]:
        """Consume bytes; return the tickets they finished and the status requests they held."""
        events: list[ReceivedTicket | StatusRequest] = []
        self._pending += data
        buf, i = self._pending, 0
        while i < len(buf):
            if self._skip:
                used = min(self._skip, len(buf) - i)
                self._raw += buf[i : i + used]
                self._skip -= used
            elif self._skip_to_nul:
                end = buf.find(0, i)
                used = (len(buf) if end < 0 else end + 1) - i
                self._raw += buf[i : i + used]
                self._skip_to_nul = end < 0
            else:
                used = self._step(buf, i, events)
                if used == 0:
                    break  # the command at i is not complete yet
            i += used
            if len(self._raw) > MAX_TICKET_BYTES:
                self._lines.append("[too long without a cut: ended by the simulator]")
                events.append(self._cut())
        del buf[:i]
        return events

    def flush(self) -> ReceivedTicket | None:
        """What was received since the last cut, when the client is gone; None if nothing."""
        self._raw += self._pending
        self._pending.clear()
        if not self._raw:
            return None
        return self._cut()

    def _step(self, buf: bytearray, i: int, events: list[ReceivedTicket | StatusRequest]) -> int:
        """Handle the byte or command at ``buf[i]``; return its length, 0 if incomplete."""
        byte = buf[i]
        if byte == DLE:
            return self._dle(buf, i, events)
        if byte == ESC:
            return self._esc(buf, i, events)
        if byte == GS:
            return self._gs(buf, i, events)
        self._raw.append(byte)
        if byte == 0x0A:
            self._end_line()
        elif byte == 0x09:
            self._text(" " * (8 - len(self._line.chars) % 8))
        elif byte == 0x0C:
            self._end_line()
        elif byte >= 0x20:
            self._text(bytes([byte]).decode(self._codec, "replace"))
        return 1

    def _dle(self, buf: bytearray, i: int, events: list[ReceivedTicket | StatusRequest]) -> int:
        if len(buf) - i < 3:
            return 0
        if buf[i + 1] == 0x04:  # DLE EOT n: real-time, answered, not print data
            events.append(StatusRequest(buf[i + 2]))
            return 3
        if buf[i + 1] == 0x05:  # DLE ENQ n: real-time request to the printer, no answer
            return 3
        if buf[i + 1] == 0x14:  # DLE DC4 fn a b (pulse, power off, clear buffer)
            return 5 if len(buf) - i >= 5 else 0
        self._raw.append(DLE)
        return 1

    def _esc(self, buf: bytearray, i: int, events: list[ReceivedTicket | StatusRequest]) -> int:
        if len(buf) - i < 2:
            return 0
        cmd = bytes(buf[i + 1 : i + 2])
        if cmd == b"D":  # horizontal tabs: a list ended by NUL
            self._raw += buf[i : i + 2]
            self._skip_to_nul = True
            return 2
        if cmd == b"*":  # bit image: m nL nH, then nL+nH*256 columns of 1 or 3 bytes
            if len(buf) - i < 5:
                return 0
            self._raw += buf[i : i + 5]
            dots = buf[i + 3] + buf[i + 4] * 256
            self._skip = dots * (1 if buf[i + 2] in (0, 1) else 3)
            return 5
        size = 2 + _ESC_ARGS.get(cmd, 0)
        if len(buf) - i < size:
            return 0
        self._raw += buf[i : i + size]
        arg = buf[i + 2] if size > 2 else 0
        if cmd == b"@":
            self._reset_style()
        elif cmd == b"t":
            self._codec = CODE_PAGES.get(arg, "cp437")
        elif cmd == b"!":
            self._width = 2 if arg & 0x20 else 1
        elif cmd == b"a":
            self._align = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(arg, self._align)
        elif cmd == b"d":
            self._end_line()
            self._lines.extend([""] * max(arg - 1, 0))
        elif cmd in (b"i", b"m"):
            events.append(self._cut())
        return size

    def _gs(self, buf: bytearray, i: int, events: list[ReceivedTicket | StatusRequest]) -> int:
        if len(buf) - i < 2:
            return 0
        cmd = bytes(buf[i + 1 : i + 2])
        if cmd == b"V":  # cut: GS V m, or GS V m n for m = 65, 66, 97, 98, 103, 104
            if len(buf) - i < 3:
                return 0
            size = 4 if buf[i + 2] in (65, 66, 97, 98, 103, 104) else 3
            if len(buf) - i < size:
                return 0
            self._raw += buf[i : i + size]
            events.append(self._cut())
            return size
        if cmd in (b"(", b"8"):  # GS ( fn pL pH data; GS 8 L p1..p4 data
            head = 5 if cmd == b"(" else 7
            if len(buf) - i < head:
                return 0
            self._raw += buf[i : i + head]
            lengths = buf[i + 3 : i + head]
            self._skip = sum(b << (8 * k) for k, b in enumerate(lengths))
            return head
        if cmd == b"k":  # barcode: m <= 6 ends with NUL, otherwise m n data
            if len(buf) - i < 4:
                return 0
            self._raw += buf[i : i + 3]
            if buf[i + 2] <= 6:
                self._skip_to_nul = True
                return 3
            self._raw.append(buf[i + 3])
            self._skip = buf[i + 3]
            return 4
        if cmd == b"v":  # raster image: GS v 0 m xL xH yL yH data
            if len(buf) - i < 8:
                return 0
            self._raw += buf[i : i + 8]
            self._skip = (buf[i + 4] + buf[i + 5] * 256) * (buf[i + 6] + buf[i + 7] * 256)
            return 8
        size = 2 + _GS_ARGS.get(cmd, 0)
        if len(buf) - i < size:
            return 0
        self._raw += buf[i : i + size]
        if cmd == b"!":
            self._width = ((buf[i + 2] >> 4) & 0x07) + 1
        return size

    def _reset_style(self) -> None:
        self._codec = "cp437"
        self._width = 1
        self._align = 0

    def _text(self, text: str) -> None:
        if not self._line.chars:
            # Like the printer, justification counts only where a line begins.
            self._line.align = self._align
        self._line.chars.extend(text)
        self._line.width += len(text) * self._width

    def _end_line(self) -> None:
        line, self._line = self._line, _Line()
        text = "".join(line.chars)
        room = max(self.columns - line.width, 0)
        offset = {0: 0, 1: room // 2, 2: room}[line.align]
        self._lines.append((" " * offset + text).rstrip())

    def _cut(self) -> ReceivedTicket:
        if self._line.chars:
            self._end_line()
        while self._lines and not self._lines[-1]:
            self._lines.pop()
        ticket = ReceivedTicket("\n".join(self._lines), bytes(self._raw))
        self._lines, self._raw = [], bytearray()
        return ticket
