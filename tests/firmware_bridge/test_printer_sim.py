"""The printer simulator: it must read ESC/POS faithfully and outlive bad clients."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.escpos import render_ticket
from firmware_bridge.escpos_decoder import EscPosDecoder, ReceivedTicket, StatusRequest
from firmware_bridge.printer_link import READY, open_link
from firmware_bridge.printer_sim import PrinterSimulator
from tests.firmware_bridge import tickets

TICKET = render_ticket(tickets.SIMPLE)
ROOT = Path(__file__).resolve().parents[2]


async def send(port: int, *chunks: bytes, reset: bool = False) -> None:
    """Connect, write ``chunks`` one by one, then close (or reset) the connection."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
    if reset:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()
    await writer.wait_closed()


async def still_works(sim: PrinterSimulator) -> None:
    """A new client gets status answers and its ticket is received whole."""
    link = open_link(f"tcp://127.0.0.1:{sim.port}", timeout=2)
    assert await asyncio.to_thread(link.print_job, TICKET) == READY
    async with asyncio.timeout(5):
        await sim.wait_until(lambda sim: TICKET in [t.raw for t in sim.tickets])


def test_garbage_does_not_kill_the_printer() -> None:
    """A port scanner or a misconfigured device must not take the kitchen printer down."""

    async def main() -> None:
        async with PrinterSimulator(port=0) as sim:
            garbage = random.Random(9100).randbytes(256 * 1024)
            await send(sim.port, garbage)
            await send(sim.port, b"\x1b", b"*", b"\x21\xff\xff")  # a bit image that never ends
            await send(sim.port, b"\x1dk\x04unterminated barcode")
            await still_works(sim)

    asyncio.run(main())


def test_client_leaving_mid_ticket_leaves_a_leftover_not_a_ticket() -> None:
    """Half a ticket must never be counted as printed, nor glued to the next one."""

    async def main() -> None:
        async with PrinterSimulator(port=0) as sim:
            half = TICKET[: len(TICKET) // 2]
            await send(sim.port, half)
            await send(sim.port, TICKET[:40], reset=True)
            await still_works(sim)
            assert [t.raw for t in sim.tickets] == [TICKET]
            async with asyncio.timeout(5):
                await sim.wait_until(lambda sim: len(sim.leftovers) >= 2)
            assert sorted(t.raw for t in sim.leftovers) == sorted([half, TICKET[:40]])

    asyncio.run(main())


def test_status_request_split_across_packets_is_answered() -> None:
    """TCP may split DLE EOT anywhere; the printer still answers it."""

    async def main() -> bytes:
        async with PrinterSimulator(port=0, paper_low=True) as sim:
            reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
            for part in (b"\x10", b"\x04", b"\x04"):
                writer.write(part)
                await writer.drain()
                await asyncio.sleep(0.02)
            async with asyncio.timeout(5):
                answer = await reader.readexactly(1)
            writer.close()
            await writer.wait_closed()
            return answer

    assert asyncio.run(main()) == b"\x1e"


def test_tickets_in_one_connection_are_kept_apart() -> None:
    """Each cut ends a ticket, so a burst of jobs reads as that many tickets."""

    async def main() -> list[bytes]:
        async with PrinterSimulator(port=0) as sim:
            await send(sim.port, TICKET * 3)
            async with asyncio.timeout(5):
                return [t.raw for t in await sim.wait_for_tickets(3)]

    assert asyncio.run(main()) == [TICKET] * 3


def test_images_and_barcodes_are_skipped_by_length() -> None:
    """Image bytes that look like a cut or a newline must not end a ticket."""
    image = b"\x1dv0\x00\x02\x00\x02\x00" + b"\x1dV\x0a\x0a"
    barcode = b"\x1dk\x49\x04\x1dV\x00\x0a"
    data = b"\x1b@before\n" + image + barcode + b"after\n\x1dV\x42\x00"
    events = EscPosDecoder().feed(data)
    assert events == [ReceivedTicket("before\nafter", data)]


def test_code_page_and_alignment_are_interpreted() -> None:
    """The text must read as it would on paper, whatever the code page and justification."""
    data = b"\x1b@\x1bt\x10caf\xe9\n\x1ba\x02right\n\x1ba\x01\x1d!\x11mid\n\x1dV\x00"
    events = EscPosDecoder(columns=20).feed(data)
    assert events == [ReceivedTicket("caf\u00e9\n               right\n       mid", data)]


def test_status_requests_are_not_print_data() -> None:
    """A status poll between tickets must not show up inside the next ticket."""
    events = EscPosDecoder().feed(b"\x10\x04\x01\x1b@hi\n\x10\x04\x04\x1dV\x00")
    assert events == [
        StatusRequest(1),
        StatusRequest(4),
        ReceivedTicket("hi", b"\x1b@hi\n\x1dV\x00"),
    ]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=20))
def test_decoding_never_fails_and_ignores_how_bytes_are_split(data: bytes, cuts: list[int]) -> None:
    """Whatever arrives, in whatever packets, the printer neither crashes nor changes its mind."""
    whole = EscPosDecoder()
    expected = [*whole.feed(data), whole.flush()]
    split = EscPosDecoder()
    got: list[ReceivedTicket | StatusRequest | None] = []
    start = 0
    for end in sorted(cuts):
        got.extend(split.feed(data[start:end]))
        start = max(start, end)
    got.extend(split.feed(data[start:]))
    got.append(split.flush())
    assert got == expected


def test_demo_command_prints_received_tickets() -> None:
    """The demo's `python -m firmware_bridge.printer_sim` must start, print, and stop cleanly."""
    with subprocess.Popen(
        [sys.executable, "-m", "firmware_bridge.printer_sim", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stderr is not None
            listening = ""
            while "printer_sim_listening" not in listening:
                listening = proc.stderr.readline()
                assert listening, "the simulator exited before listening"
            port = int(listening.rsplit("port=", 1)[1])
            data = render_ticket(tickets.ACCENTS)
            open_link(f"tcp://127.0.0.1:{port}", timeout=5).print_job(data)
            shown: list[str] = []
            while not shown or "bytes)" not in shown[-1]:
                shown.append(proc.stdout.readline())
                assert shown[-1], "the simulator stopped writing"
            assert "2 x Crème brûlée\n" in shown
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
