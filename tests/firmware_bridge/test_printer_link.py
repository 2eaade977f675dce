"""The printer link against a simulated printer on real TCP, one switch at a time."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest

from firmware_bridge.escpos import render_ticket
from firmware_bridge.printer_link import (
    READY,
    PrinterError,
    PrinterLink,
    PrinterNotReady,
    PrinterOffline,
    PrinterStatus,
    open_link,
    parse_status,
)
from firmware_bridge.printer_sim import PrinterSimulator
from tests.firmware_bridge import tickets

T = TypeVar("T")

TICKET = render_ticket(tickets.SIMPLE)


def with_printer(
    scenario: Callable[[PrinterSimulator, PrinterLink], Awaitable[T]],
    *,
    timeout: float = 1.0,
    **switches: Any,
) -> T:
    """Run ``scenario`` against a simulator on a free 127.0.0.1 port."""

    async def main() -> T:
        async with asyncio.timeout(20), PrinterSimulator(port=0, **switches) as sim:
            link = open_link(f"tcp://127.0.0.1:{sim.port}", timeout=timeout)
            return await scenario(sim, link)

    return asyncio.run(main())


def test_ready_printer_reports_ready() -> None:
    """A healthy printer must read as healthy, or the bridge fails over for nothing."""

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> PrinterStatus:
        return await asyncio.to_thread(link.status)

    assert with_printer(scenario) == READY


def test_printed_ticket_reads_back_with_accents() -> None:
    """The kitchen reads exactly the dish names the till sent, accents and all."""
    data = render_ticket(tickets.ACCENTS, tz=timezone(timedelta(hours=1)))

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> str:
        await asyncio.to_thread(link.print_job, data)
        async with asyncio.timeout(5):
            received = await sim.wait_for_tickets(1)
        assert received[0].raw == data
        return received[0].text

    assert with_printer(scenario) == (
        "                   #7\n"
        "Küche                                13:34\n"
        "demo-0001-0007            Table Terrasse 3\n"
        "Note: Geburtstag: Kerze auf die Crème\n"
        "      brûlée, 2 €\n"
        "------------------------------------------\n"
        "2 x Crème brûlée\n"
        "1 x Jalapeño poppers\n"
        "    + Sauce à part\n"
        "0.5 x Ärtsoppa\n"
        "    ! ohne Speck, süß\n"
        "1 x Façade salad\n"
        "------------------------------------------\n"
        "job 7f3c9a2e-0b1d-4c55-9e2a-1d2b3c4d5e6f"
    )


def test_paper_out_is_reported_and_the_job_refused() -> None:
    """A printer without paper must not swallow a ticket the kitchen never sees."""

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> None:
        status = await asyncio.to_thread(link.status)
        assert status == PrinterStatus(online=False, cover_open=False, paper="out")
        with pytest.raises(PrinterNotReady) as refused:
            await asyncio.to_thread(link.print_job, TICKET)
        assert refused.value.reason == "paper out"
        assert refused.value.status == status
        assert sim.tickets == []

    with_printer(scenario, paper_out=True)


def test_paper_low_still_prints() -> None:
    """A roll near its end is a warning for staff, not a reason to stop printing."""

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> PrinterStatus:
        status = await asyncio.to_thread(link.print_job, TICKET)
        async with asyncio.timeout(5):
            await sim.wait_for_tickets(1)
        return status

    assert with_printer(scenario, paper_low=True) == PrinterStatus(True, False, "low")


def test_cover_open_is_reported_and_the_job_refused() -> None:
    """An open cover stops the printer; the job must go elsewhere, not into the void."""

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> None:
        status = await asyncio.to_thread(link.status)
        assert status == PrinterStatus(online=False, cover_open=True, paper="ok")
        with pytest.raises(PrinterNotReady, match="cover open"):
            await asyncio.to_thread(link.print_job, TICKET)
        assert sim.tickets == []

    with_printer(scenario, cover_open=True)


def test_closing_the_cover_makes_the_printer_usable_again() -> None:
    """Recovery needs no restart: the next job after the fix prints."""

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> None:
        with pytest.raises(PrinterNotReady):
            await asyncio.to_thread(link.print_job, TICKET)
        sim.cover_open = False
        await asyncio.to_thread(link.print_job, TICKET)
        async with asyncio.timeout(5):
            assert [t.raw for t in await sim.wait_for_tickets(1)] == [TICKET]

    with_printer(scenario, cover_open=True)


def test_slow_printer_beyond_the_timeout_is_offline() -> None:
    """A printer that answers too late must not hold the adapter past its timeout."""

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> float:
        started = time.monotonic()
        with pytest.raises(PrinterOffline, match="no status within"):
            await asyncio.to_thread(link.status)
        return time.monotonic() - started

    elapsed = with_printer(scenario, timeout=0.3, slow=3.0)
    assert elapsed < 2.0


def test_slow_printer_within_the_timeout_is_fine() -> None:
    """A sluggish but working printer must not be declared offline."""

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> PrinterStatus:
        return await asyncio.to_thread(link.status)

    assert with_printer(scenario, timeout=2.0, slow=0.2) == READY


def test_dead_printer_is_offline() -> None:
    """A printer that accepts and then says nothing is as good as switched off."""

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> None:
        with pytest.raises(PrinterOffline):
            await asyncio.to_thread(link.print_job, TICKET)

    with_printer(scenario, timeout=0.3, dead=True)


def test_refusing_printer_is_offline() -> None:
    """A printer that resets every connection is offline, not an unknown error."""

    async def scenario(sim: PrinterSimulator, link: PrinterLink) -> None:
        with pytest.raises(PrinterOffline):
            await asyncio.to_thread(link.status)

    with_printer(scenario, refuse=True)


def test_nothing_listening_is_offline() -> None:
    """A printer that is switched off refuses connections; that is offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PrinterOffline, match="cannot connect"):
        open_link(f"tcp://127.0.0.1:{port}", timeout=1).status()


def test_file_target_appends_and_is_always_ready(tmp_path: Path) -> None:
    """The demo's file printer keeps every ticket, in order, and never blocks a job."""
    out = tmp_path / "kitchen.bin"
    link = open_link(f"file:{out}")
    assert link.print_job(b"first") == READY
    assert link.print_job(b"second") == READY
    assert link.status() == READY
    assert out.read_bytes() == b"firstsecond"


def test_unwritable_file_target_is_offline(tmp_path: Path) -> None:
    """A file printer that cannot write must fail the job, not pretend it printed."""
    with pytest.raises(PrinterOffline):
        open_link(f"file:{tmp_path / 'missing' / 'kitchen.bin'}").send(b"x")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("tcp://printer.local", "tcp://printer.local:9100"),
        ("tcp://10.0.0.7:9101", "tcp://10.0.0.7:9101"),
        ("file:/var/spool/kitchen.bin", "file:/var/spool/kitchen.bin"),
        ("file:///var/spool/kitchen.bin", "file:/var/spool/kitchen.bin"),
        ("file:kitchen.bin", "file:kitchen.bin"),
    ],
)
def test_targets_are_understood(target: str, expected: str) -> None:
    """Install scripts write these forms; each must reach the intended printer."""
    assert open_link(target).target == expected


@pytest.mark.parametrize(
    "target",
    ["10.0.0.7:9100", "tcp://:9100", "tcp://host:notaport", "tcp://host/x", "file:", "usb:1"],
)
def test_bad_targets_fail_at_once(target: str) -> None:
    """A typo in the configuration must fail at start, not at the first order."""
    with pytest.raises(ValueError):
        open_link(target)


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        ((0x12, 0x12, 0x12), PrinterStatus(True, False, "ok")),
        ((0x16, 0x12, 0x12), PrinterStatus(True, False, "ok")),  # drawer pin high only
        ((0x12, 0x12, 0x1E), PrinterStatus(True, False, "low")),
        ((0x1A, 0x32, 0x7E), PrinterStatus(False, False, "out")),
        ((0x1A, 0x16, 0x12), PrinterStatus(False, True, "ok")),
        ((0x1A, 0x52, 0x12), PrinterStatus(False, False, "ok", error="printer error")),
    ],
)
def test_status_bytes_decode_per_the_reference(
    replies: tuple[int, int, int], expected: PrinterStatus
) -> None:
    """The bits mean what the ESC/POS reference says, not what our simulator says."""
    assert parse_status(*replies) == expected


@pytest.mark.parametrize("replies", [(0x00, 0x12, 0x12), (0x12, 0xFF, 0x12), (0x12, 0x12, 0x92)])
def test_a_non_status_reply_is_an_error(replies: tuple[int, int, int]) -> None:
    """Something on port 9100 that is not an ESC/POS printer must not read as one."""
    with pytest.raises(PrinterError, match="not a status byte"):
        parse_status(*replies)
