"""The store's two kitchen printers: ``PrinterSimulator``s on a thread of their own.

What they print is the evidence the ledger reads: each ticket as the cook
would read it (whose order, which station, new or cancel, the banners).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from firmware_bridge.printer_sim import PrinterSimulator

TIMEOUT = 15.0


@dataclass(frozen=True)
class Printed:
    """A ticket as the cook reads it: whose order, which station, new or cancel, the banners.

    The kitchen tests read their tickets with this too (``tests.support.kitchen``).
    """

    order: str
    station: str
    kind: str
    backup: bool
    reprint: bool
    text: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.order, self.station, self.kind)

    @classmethod
    def read(cls, text: str) -> Printed:
        lines = [line.strip() for line in text.splitlines()]
        at = next(i for i, line in enumerate(lines) if line.startswith("#"))
        return cls(
            order=lines[at + 2].split()[0],
            station=lines[at + 1].split()[0],
            kind="cancel" if "*** CANCEL ***" in lines else "new",
            backup="BACKUP" in lines[:at],
            reprint="REPRINT" in lines[:at],
            text=text,
        )


class Printers:
    """Several simulated printers on one event loop thread; switches flipped from any thread."""

    def __init__(self, names: list[str]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.sims: dict[str, PrinterSimulator] = {}
        for name in names:
            sim = PrinterSimulator("127.0.0.1", 0)
            asyncio.run_coroutine_threadsafe(sim.start(), self._loop).result(TIMEOUT)
            self.sims[name] = sim

    def port(self, name: str) -> int:
        return self.sims[name].port

    def set(self, name: str, **switches: Any) -> None:
        sim = self.sims[name]

        def apply() -> None:
            for switch, value in switches.items():
                setattr(sim, switch, value)

        self._loop.call_soon_threadsafe(apply)

    def printed(self) -> dict[str, list[Printed]]:
        """Every ticket each printer has printed, in order."""
        return {
            name: [Printed.read(t.text) for t in list(s.tickets)] for name, s in self.sims.items()
        }

    def close(self) -> None:
        for sim in self.sims.values():
            asyncio.run_coroutine_threadsafe(sim.stop(), self._loop).result(TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(TIMEOUT)
        self._loop.close()
