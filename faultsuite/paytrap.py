"""Killing a hub while a payment is in flight: at a random moment, or as its answer leaves.

A ``PayTrap`` is armed by the fault schedule and sprung by the next till that
pays, as it sends. Two ways to spring it:

- **timed**: the hub the payment goes to is SIGKILLed ``delay`` seconds after
  the till sent it: before the commit, after the answer, or (rarely: the
  window is a millisecond or two) in between;
- **cut**: the payment goes through an ``AnswerCutter``, a one-shot TCP relay
  in front of the hub that SIGKILLs the hub the moment its answer starts to
  come back, i.e. after the commit, and drops the answer. The till sees its
  connection cut, exactly as if the hub had died between committing and
  answering, and must learn the outcome by reading the order back.

The till settles the trap with how its payment ended: ``answered``,
``committed`` (the read-back shows it paid) or ``not committed``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from faultsuite.processes import Child
from faultsuite.store import Store


class AnswerCutter(threading.Thread):
    """Relays one connection to a hub; kills the hub when its first answer byte arrives."""

    def __init__(self, hub_port: int, kill: Callable[[], None]) -> None:
        super().__init__(name="answer-cutter", daemon=True)
        self.hub_port = hub_port
        self.kill = kill
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(30)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def run(self) -> None:
        try:
            till, _ = self.listener.accept()
        except OSError:
            return
        finally:
            self.listener.close()
        hub = socket.create_connection(("127.0.0.1", self.hub_port), timeout=30)
        threading.Thread(target=self._relay, args=(till, hub), daemon=True).start()
        with contextlib.suppress(OSError):
            hub.recv(1)  # blocks until the hub answers: it has committed
        self.kill()
        till.close()  # the answer is never passed on
        hub.close()

    @staticmethod
    def _relay(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass


class PayTrap:
    """One armed kill: ``spring`` as a payment leaves a till, ``settle`` once it knows the end."""

    def __init__(self, store: Store, delay: float | None) -> None:
        """``delay`` None: cut the answer (``AnswerCutter``); else kill that long after sending."""
        self.store = store
        self.delay = delay
        self.killed: list[Child] = []
        self.outcome = ""
        self.sprung = threading.Event()
        self.settled = threading.Event()

    def spring(self, urls: list[str]) -> str | None:
        """Called by the till as it sends; returns the URL to send through, if not its own."""
        by_url = dict(zip(self.store.urls, self.store.servers, strict=True))
        target = next((u for u in urls if by_url[u].alive()), None)
        via = None
        if target is not None:
            hub = by_url[target]
            self.killed.append(hub)
            if self.delay is None:
                cutter = AnswerCutter(int(target.rsplit(":", 1)[1]), hub.kill)
                cutter.start()
                via = cutter.url
            else:
                threading.Timer(self.delay, hub.kill).start()
        self.sprung.set()
        return via

    def settle(self, outcome: str) -> None:
        self.outcome = outcome
        self.settled.set()
