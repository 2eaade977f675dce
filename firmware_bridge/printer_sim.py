"""A kitchen printer on TCP, for tests and for the demo when no printer is at hand.

It speaks the part of ESC/POS that EdgeHub uses, as an Epson-compatible
printer would: ``escpos_decoder`` turns what it receives into plain text, a
cut ends a ticket (kept as text and raw bytes), and the real-time status
requests DLE EOT 1, 2, 3 and 4 get the bytes the ESC/POS reference defines.

Switches change what it reports and how it behaves, and may be flipped while
it runs: ``paper_out``, ``paper_low``, ``cover_open``, ``slow`` (seconds of
delay before each read is processed and answered), ``dead`` (accepts and
reads, never answers), ``refuse`` (accepts and resets at once) and
``status_reply`` (bytes sent instead of the status byte for every DLE EOT: a
garbled line, another dialect, a printer that answers too much or too little).

It must outlive its clients: garbage bytes are skipped, a client that leaves
mid-ticket leaves its unfinished ticket in ``leftovers``, and an error in one
connection never reaches another. Unlike a real printer it keeps no state
between connections (every EdgeHub ticket starts with ESC @ anyway), prints
even when its switches say it could not (a real one goes offline on a paper
end or an open cover and holds the data), has no receive buffer to fill, and
serves any number of clients at once (a network printer serves one at a time
on port 9100, which is why ``printer_link`` never holds a connection).
The status bytes follow the Epson ESC/POS Command Reference, "DLE EOT n:
Transmit real-time status" (see ``status_byte``); the commands it understands
are listed in ``escpos_decoder``.

Run it: ``python -m firmware_bridge.printer_sim --port 9100``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Callable
from types import TracebackType

from firmware_bridge.escpos_decoder import EscPosDecoder, ReceivedTicket, StatusRequest
from hub.logs import get_logger, setup_logging

log = get_logger(__name__)


class PrinterSimulator:
    """An asyncio TCP server that behaves like an ESC/POS kitchen printer."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9100,
        *,
        columns: int = 42,
        paper_out: bool = False,
        paper_low: bool = False,
        cover_open: bool = False,
        slow: float = 0.0,
        dead: bool = False,
        refuse: bool = False,
        status_reply: bytes | None = None,
        on_ticket: Callable[[ReceivedTicket], None] | None = None,
    ) -> None:
        self.host = host
        self.columns = columns
        self.paper_out = paper_out
        self.paper_low = paper_low
        self.cover_open = cover_open
        self.slow = slow
        self.dead = dead
        self.refuse = refuse
        self.status_reply = status_reply
        self.tickets: list[ReceivedTicket] = []
        self.leftovers: list[ReceivedTicket] = []
        self._requested_port = port
        self._on_ticket = on_ticket
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()
        self._arrived = asyncio.Condition()

    @property
    def port(self) -> int:
        """The port it listens on; the real one when it was started with port 0."""
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self._requested_port)

    async def stop(self) -> None:
        """Stop listening, drop every client, and wait until their handlers are done."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._clients):
            task.cancel()
        await asyncio.gather(*self._clients, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> PrinterSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def wait_for_tickets(self, count: int) -> list[ReceivedTicket]:
        """All tickets so far, once there are at least ``count``; the caller bounds the wait."""
        await self.wait_until(lambda sim: len(sim.tickets) >= count)
        return list(self.tickets)

    async def wait_until(self, predicate: Callable[[PrinterSimulator], bool]) -> None:
        """Return once ``predicate(self)`` holds, checked whenever a ticket or leftover lands."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: predicate(self))

    def status_byte(self, n: int) -> int | None:
        """The answer to DLE EOT n in the current state, or None for an n it does not define.

        Source: Epson ESC/POS Command Reference, "DLE EOT n: Transmit real-time
        status", with one bit table per n. Every table has bits 1 and 4 fixed
        to 1 and bits 0 and 7 fixed to 0. A printer that has no table for n
        (the reference defines n = 1 to 4; n = 7 and 8 take a further byte and
        only some models have them) sends nothing, and so does this one.
        """
        byte = 0b0001_0010  # bits 1 and 4 are always set, 0 and 7 always clear
        if n == 1:
            # Printer status: bit 3 is "offline"; an open cover or a paper end
            # takes the printer offline.
            offline = self.paper_out or self.cover_open
            return byte | (0b0000_1000 if offline else 0)
        if n == 2:
            # Offline cause: bit 2 "cover is open", bit 5 "printing stops due
            # to a paper end".
            cover = 0b0000_0100 if self.cover_open else 0
            return byte | cover | (0b0010_0000 if self.paper_out else 0)
        if n == 3:
            # Error cause: bit 3 autocutter, bit 5 unrecoverable, bit 6
            # auto-recoverable; the simulator has none of these errors.
            return byte
        if n == 4:
            # Roll paper sensor: bits 2 and 3 "near end", bits 5 and 6 "paper
            # end" (both bits of a pair are set together).
            # The near-end sensor also sees no paper when the roll is out.
            near_end = 0b0000_1100 if self.paper_low or self.paper_out else 0
            return byte | near_end | (0b0110_0000 if self.paper_out else 0)
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        decoder = EscPosDecoder(self.columns)
        try:
            if self.refuse:
                writer.transport.abort()
                return
            while data := await reader.read(4096):
                if self.dead:
                    continue
                if self.slow:
                    await asyncio.sleep(self.slow)
                for event in decoder.feed(data):
                    if isinstance(event, StatusRequest):
                        if self.status_reply is not None:
                            writer.write(self.status_reply)
                            continue
                        answer = self.status_byte(event.n)
                        if answer is not None:
                            writer.write(bytes([answer]))
                    else:
                        await self._record(event)
                await writer.drain()
        except ConnectionError:
            pass  # the client went away; what it sent is kept below
        except Exception:
            log.exception("printer_sim_connection_failed")
        finally:
            leftover = decoder.flush()
            if leftover is not None:
                await self._record(leftover, complete=False)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self._clients.discard(task)

    async def _record(self, ticket: ReceivedTicket, *, complete: bool = True) -> None:
        async with self._arrived:
            (self.tickets if complete else self.leftovers).append(ticket)
            self._arrived.notify_all()
        if complete and self._on_ticket is not None:
            self._on_ticket(ticket)


def main(argv: list[str] | None = None) -> None:
    """Run a simulated printer until interrupted, printing each ticket it receives."""
    parser = argparse.ArgumentParser(prog="python -m firmware_bridge.printer_sim")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100, help="0 picks a free port")
    parser.add_argument("--columns", type=int, default=42)
    parser.add_argument("--paper-out", action="store_true")
    parser.add_argument("--paper-low", action="store_true")
    parser.add_argument("--cover-open", action="store_true")
    parser.add_argument("--slow", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--dead", action="store_true", help="accept but never answer")
    parser.add_argument("--refuse", action="store_true", help="reset every connection")
    args = parser.parse_args(argv)
    setup_logging("info")
    asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> None:
    def show(ticket: ReceivedTicket) -> None:
        rule = "=" * args.columns
        print(f"{rule}\n{ticket.text}\n{rule}  ({len(ticket.raw)} bytes)", flush=True)

    sim = PrinterSimulator(
        args.host,
        args.port,
        columns=args.columns,
        paper_out=args.paper_out,
        paper_low=args.paper_low,
        cover_open=args.cover_open,
        slow=args.slow,
        dead=args.dead,
        refuse=args.refuse,
        on_ticket=show,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with sim:
        log.info("printer_sim_listening", host=args.host, port=sim.port)
        await stop.wait()
    log.info("printer_sim_stopped", tickets=len(sim.tickets))


if __name__ == "__main__":
    main()
