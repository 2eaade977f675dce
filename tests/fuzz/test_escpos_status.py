"""A printer that answers its status requests with junk (a garbled line, another dialect, too
many or too few bytes): the link reports a printer error or no answer, never prints on a
status it did not understand, and the adapter carries on without a traceback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge.escpos import render_ticket
from firmware_bridge.printer_link import PrinterError, PrinterStatus, open_link, parse_status
from tests.firmware_bridge import tickets
from tests.support.kitchen import GRILL, Kitchen, SimPrinter, wait_until

TICKET = render_ticket(tickets.SIMPLE)
VALID = 0b0001_0010  # bits 1 and 4 set, 0 and 7 clear: the shape of every status answer


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_any_three_bytes_decode_to_a_status_or_a_printer_error(a: int, b: int, c: int) -> None:
    """The decoder's verdict is total: a status the adapter can act on, or PrinterError."""
    try:
        status = parse_status(a, b, c)
    except PrinterError:
        assert any(byte & 0b1001_0011 != VALID for byte in (a, b, c))
    else:
        assert isinstance(status, PrinterStatus)


@pytest.fixture(scope="module")
def junk_printer() -> Iterator[SimPrinter]:
    """One simulated printer for every example; each example sets what it answers."""
    sim = SimPrinter()
    yield sim
    sim.close()


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(reply=st.binary(max_size=5))
def test_junk_status_answers_are_printer_errors_and_nothing_prints(
    junk_printer: SimPrinter, reply: bytes
) -> None:
    """Whatever bytes answer DLE EOT, the link raises PrinterError or reads a real status."""
    junk_printer.set(status_reply=reply)
    printed_before = len(junk_printer.tickets)
    link = open_link(f"tcp://127.0.0.1:{junk_printer.port}", timeout=0.3)
    try:
        status = link.print_job(TICKET)
    except PrinterError:
        time.sleep(0.01)  # let the simulator record anything it was sent
        assert len(junk_printer.tickets) == printed_before  # refused before a byte went out
    else:
        # Answers of the shape of status bytes that say the printer is ready: it prints.
        assert status.problem is None
        wait_until(lambda: len(junk_printer.tickets) > printed_before, what="the ticket")


def test_the_adapter_survives_a_printer_speaking_junk(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """The job fails with the reason, the device's status says so, and it prints once mended."""
    grill = printers(status_reply=b"\xff\x00")
    kitchen.add_device("grill-1", "grill")
    bridge = kitchen.bridge()
    adapter = kitchen.printer("grill-1", grill.port, "--status-interval", "0.5")
    wait_until(
        lambda: (kitchen.device_row("grill-1")["error"] or "").startswith("answer to DLE EOT"),
        what="the junk reported as the device's error",
    )
    order = kitchen.paid_order((GRILL, "1"))
    (failed,) = kitchen.wait_jobs(order.id, "failed", 1)
    assert failed["last_error"].startswith("answer to DLE EOT")
    assert grill.tickets == []

    grill.set(status_reply=None)
    kitchen.wait_jobs(order.id, "acked", 1)
    assert [p.key for p in grill.printed()] == [(order.name, "grill", "new")]
    for process in (adapter, bridge):
        assert "Traceback" not in process.log_text() and process.alive()
