"""The wire to one ESC/POS printer: send a ticket, ask how the printer is.

A link is a target (``tcp://HOST:9100`` or ``file:PATH``) plus a timeout, not
an open socket: every operation opens its own TCP connection and closes it.
Network printers serve one client at a time on port 9100, so a connection
held between jobs would lock out every other program in the store, and a
printer that was power-cycled needs no reconnection logic.

Status comes from the real-time command DLE EOT n (``10 04 n``), which the
printer answers with one byte even while its print buffer is busy: n=1 printer
status, n=2 offline cause, n=4 roll paper sensor. ``file:`` targets append the
bytes to a file and always report a ready printer; they are for demos and for
stores that print through a spooler.

The API is synchronous on purpose; the printer adapter calls it from a worker
thread so a slow printer never blocks the event loop.

* PrinterError            the printer said something that is not ESC/POS status
    * PrinterOffline      no connection, or no answer within the timeout
    * PrinterNotReady     answers but cannot print now; carries ``reason`` and ``status``
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

DEFAULT_PORT = 9100
DEFAULT_TIMEOUT = 3.0

STATUS_QUERY = b"\x10\x04\x01" + b"\x10\x04\x02" + b"\x10\x04\x04"
"""DLE EOT 1, 2 and 4 in one write; the printer answers one byte each, in order."""

Paper = Literal["ok", "low", "out"]


class PrinterError(Exception):
    """Base of every error a printer link raises."""


class PrinterOffline(PrinterError):
    """The printer cannot be reached, or did not answer within the timeout."""


class PrinterNotReady(PrinterError):
    """The printer answers but cannot print now (cover open, paper out, error)."""

    def __init__(self, reason: str, status: PrinterStatus) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer reported about itself.

    ``online`` is the printer's own online flag: an open cover or a paper
    end takes it offline too. A printer that does not answer at all has no
    status; the link raises PrinterOffline instead.
    """

    online: bool
    cover_open: bool
    paper: Paper
    error: str | None = None

    @property
    def problem(self) -> str | None:
        """Why a ticket sent now would not print, or None when it would."""
        if self.error is not None:
            return self.error
        if self.cover_open:
            return "cover open"
        if self.paper == "out":
            return "paper out"
        if not self.online:
            return "offline"
        return None


READY = PrinterStatus(online=True, cover_open=False, paper="ok")


def parse_status(printer: int, offline_cause: int, paper_sensor: int) -> PrinterStatus:
    """Decode the answers to DLE EOT 1, 2 and 4 as the Epson ESC/POS reference defines them.

    Every answer has bit 1 and bit 4 set and bits 0 and 7 clear; a byte that
    does not is not a status answer, and the device is not an ESC/POS printer.
    """
    for name, byte in (("1", printer), ("2", offline_cause), ("4", paper_sensor)):
        if byte & 0b1001_0011 != 0b0001_0010:
            raise PrinterError(f"answer to DLE EOT {name} is not a status byte: 0x{byte:02x}")
    paper: Paper = "ok"
    if paper_sensor & 0b0110_0000 or offline_cause & 0b0010_0000:
        paper = "out"
    elif paper_sensor & 0b0000_1100:
        paper = "low"
    return PrinterStatus(
        online=not printer & 0b0000_1000,
        cover_open=bool(offline_cause & 0b0000_0100),
        paper=paper,
        error="printer error" if offline_cause & 0b0100_0000 else None,
    )


class PrinterLink(Protocol):
    """One printer, as the adapter drives it."""

    target: str

    def status(self) -> PrinterStatus:
        """Ask the printer how it is; PrinterOffline when it does not answer."""
        ...

    def send(self, data: bytes) -> None:
        """Hand bytes to the printer as they are, without asking first."""
        ...

    def print_job(self, data: bytes) -> PrinterStatus:
        """Send a ticket if the printer can print it now; PrinterNotReady if not.

        Returns the status the decision was made on. A ticket whose sending
        timed out may have been printed in part.
        """
        ...


def open_link(target: str, *, timeout: float = DEFAULT_TIMEOUT) -> PrinterLink:
    """A link to ``tcp://HOST[:PORT]`` (port 9100 by default) or ``file:PATH``.

    No I/O happens here; a bad target is a configuration mistake and raises
    ValueError at once, an unreachable printer only when it is used.
    """
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    if target.startswith("tcp://"):
        parts = urlsplit(target)
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise ValueError(f"bad port in printer target {target!r}") from None
        if not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ValueError(f"printer target must be tcp://HOST[:PORT], not {target!r}")
        return TcpPrinterLink(parts.hostname, port, timeout=timeout)
    if target.startswith("file:"):
        path = target.removeprefix("file:")
        if path.startswith("//"):
            parts = urlsplit(target)
            if parts.netloc not in ("", "localhost"):
                raise ValueError(f"file target must be on this machine: {target!r}")
            path = parts.path
        if not path:
            raise ValueError("file target needs a path: file:PATH")
        return FilePrinterLink(Path(path))
    raise ValueError(f"printer target must be tcp://HOST:PORT or file:PATH, not {target!r}")


class TcpPrinterLink:
    """A network printer speaking raw ESC/POS, usually on TCP port 9100."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, *, timeout: float = DEFAULT_TIMEOUT):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.target = f"tcp://{host}:{port}"

    def status(self) -> PrinterStatus:
        with self._connect() as sock:
            return self._query(sock)

    def send(self, data: bytes) -> None:
        with self._connect() as sock:
            self._send(sock, data)

    def print_job(self, data: bytes) -> PrinterStatus:
        # One connection for question and ticket: no other client can slip
        # in between, and the answer is about the printer that gets the job.
        with self._connect() as sock:
            status = self._query(sock)
            if status.problem is not None:
                raise PrinterNotReady(status.problem, status)
            self._send(sock, data)
            return status

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise PrinterOffline(f"cannot connect to {self.target}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _query(self, sock: socket.socket) -> PrinterStatus:
        deadline = time.monotonic() + self.timeout
        answer = bytearray()
        try:
            sock.sendall(STATUS_QUERY)
            while len(answer) < 3:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                sock.settimeout(remaining)
                chunk = sock.recv(3 - len(answer))
                if not chunk:
                    raise PrinterOffline(f"{self.target} closed the connection before answering")
                answer += chunk
        except TimeoutError as exc:
            raise PrinterOffline(f"{self.target} gave no status within {self.timeout:g}s") from exc
        except OSError as exc:
            raise PrinterOffline(f"lost {self.target} while asking its status: {exc}") from exc
        return parse_status(answer[0], answer[1], answer[2])

    def _send(self, sock: socket.socket, data: bytes) -> None:
        try:
            # Since Python 3.5 the timeout bounds the whole sendall, not each chunk.
            sock.settimeout(self.timeout)
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise PrinterOffline(f"sending to {self.target} failed: {exc}") from exc
        _discard_unread(sock)


def _discard_unread(sock: socket.socket) -> None:
    """Read what the printer sent unasked, so that closing sends FIN, not RST.

    Closing a socket with unread input makes the kernel reset the connection,
    and a reset can make the printer drop the end of a ticket it has not
    processed yet.
    """
    sock.setblocking(False)
    try:
        for _ in range(16):  # bounded: a printer that keeps talking is not waited for
            if not sock.recv(4096):
                break
    except OSError:
        pass


class FilePrinterLink:
    """A file that takes the bytes a printer would; it is always ready."""

    def __init__(self, path: Path):
        self.path = path
        self.target = f"file:{path}"

    def status(self) -> PrinterStatus:
        return READY

    def send(self, data: bytes) -> None:
        try:
            with self.path.open("ab") as out:
                out.write(data)
        except OSError as exc:
            raise PrinterOffline(f"cannot write {self.path}: {exc}") from exc

    def print_job(self, data: bytes) -> PrinterStatus:
        self.send(data)
        return READY
