"""The kitchen test rig: bridge and printer adapters as real processes, simulated printers,
and orders written to the real SQLite file through the hub's own service code.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from faultsuite.printers import Printed
from firmware_bridge.escpos_decoder import ReceivedTicket
from firmware_bridge.printer_sim import PrinterSimulator
from hub.auth.users import Actor, get_actor
from hub.db.connection import immediate, open_db
from hub.devices import add_device
from hub.orders import commands
from hub.orders.commands import LineInput, OrderRules, PaymentInput
from hub.orders.models import Order
from hub.orders.money import Money
from hub.sessions import open_session
from hub.settings import Settings, field_of
from tests.support import launch
from tests.support.hub_process import FAST_HASH, hub_env

TIMEOUT = 15.0
CLAIM_WAIT = "0.02"
"""Seconds a starting bridge or adapter waits for a retained claim: no claim is kept in most
tests, and each start would wait out the shipped 0.3 s for nothing."""
SHIPPED_CLAIM_WAIT = {
    "EDGEHUB_KITCHEN_CLAIM_WAIT_SECONDS": str(field_of("kitchen_claim_wait_seconds").default)
}
"""For the starts that must find a claim: the wait an operator's bridge has."""
GRILL, BAR, COLD = 1, 10, 19
"""Demo products: Classic Burger (grill), Espresso (bar), Caesar Salad (cold)."""


def ack_timing(ack_timeout: float) -> dict[str, str]:
    """Env for a bridge whose ack timeout is ``ack_timeout`` (the rig's is 1 s) and whose
    re-send scan (1 s shipped) is as long: a test's wait counted in ack timeouts keeps its
    margin at a shorter one."""
    return {
        "EDGEHUB_KITCHEN_ACK_TIMEOUT_SECONDS": str(ack_timeout),
        "EDGEHUB_TIMING": json.dumps({"kitchen_rescan_seconds": ack_timeout}),
    }


def wait_until(predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "") -> Any:
    """Poll ``predicate`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


async def wait_until_async(
    predicate: Callable[[], Any], within: float = TIMEOUT, what: str = ""
) -> Any:
    """``wait_until`` for a test running on an event loop: polls without blocking it."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


def new_store() -> str:
    """A store code of the test's own: its topics cannot meet another test's."""
    return f"t{uuid.uuid4().hex[:10]}"


class Kitchen:
    """One store's database and broker URL, and the processes that serve its kitchen."""

    def __init__(
        self,
        db: Path,
        mqtt_url: str = "mqtt://127.0.0.1:1883",
        *,
        store: str | None = None,
        **env: str,
    ) -> None:
        self.db = db
        self.store = store or new_store()
        self.env = {
            "EDGEHUB_STORE": self.store,
            "EDGEHUB_MQTT_URL": mqtt_url,
            "EDGEHUB_LOG_LEVEL": "info",
            "EDGEHUB_KITCHEN_ACK_TIMEOUT_SECONDS": "1",
            "EDGEHUB_KITCHEN_RETRY_MAX_SECONDS": "2",
            "EDGEHUB_MQTT_KEEPALIVE_SECONDS": "2",
            "EDGEHUB_KITCHEN_CLAIM_WAIT_SECONDS": CLAIM_WAIT,
            **env,
        }
        self.settings = Settings(
            db=db, store=self.store, pin_hash_iterations=int(FAST_HASH), mqtt_url=mqtt_url
        )
        self.money = Money(2)
        self.rules = OrderRules(money=self.money, store=self.store, max_discount_pct=Decimal(30))
        self.processes: list[KitchenProcess] = []
        self._session: int | None = None

    # --- processes ------------------------------------------------------------------------

    def bridge(self, **env: str) -> KitchenProcess:
        proc = KitchenProcess("bridge", ["bridge"], self._env(env), self.db)
        self.processes.append(proc)
        return proc.start()

    def printer(self, device: str, port: int, *extra: str, **env: str) -> KitchenProcess:
        args = ["printer", "--device", device, "--connect", f"tcp://127.0.0.1:{port}", *extra]
        proc = KitchenProcess(device, args, self._env(env), self.db)
        self.processes.append(proc)
        return proc.start()

    def command(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``edgehub ARGS`` for this store to its end, as an operator would by hand."""
        return launch.run(args, self._env(env), timeout=30)

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        env = hub_env(self.db)
        env.update(self.env)
        env.update(extra)
        return env

    def close(self) -> None:
        for proc in self.processes:
            proc.stop()

    # --- the database -----------------------------------------------------------------------

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        db = open_db(self.settings, readonly=True)
        try:
            return [tuple(r) for r in db.execute(sql, params).fetchall()]
        finally:
            db.close()

    def write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        db = open_db(self.settings)
        try:
            with immediate(db):
                return fn(db, *args, **kwargs)
        finally:
            db.close()

    def add_device(self, device: str, station: str, role: str = "primary", kind: str = "printer"):
        self.write(add_device, device, station=station, role=role, kind=kind)

    def admin(self, db: Any) -> Actor:
        actor = get_actor(db, 1)
        assert actor is not None and actor.role == "admin"
        return actor

    def paid_order(self, *lines: tuple[int, str]) -> Order:
        """Create, validate and pay an order as the admin would at a till; returns it."""

        def place(db: Any) -> Order:
            actor = self.admin(db)
            if self._session is None:
                opened = open_session(db, self.money, actor, terminal="till-1", opening_cash=0)
                self._session = opened.id
            order, _ = commands.create_order(
                db,
                self.rules,
                actor,
                uuid=str(uuid.uuid4()),
                session_id=self._session,
                lines=[LineInput(product_id=p, qty=Decimal(q)) for p, q in lines],
                note="",
                fingerprint=uuid.uuid4().hex,
            )
            order = commands.transition(db, self.rules, actor, order.id, "validate")
            total = self.money.parse(order.amount_total)
            payments = [PaymentInput(method_id=2, amount=total)]
            return commands.transition(db, self.rules, actor, order.id, "pay", payments=payments)

        order: Order = self.write(place)
        return order

    def fire(self, order_id: int, event: str) -> Order:
        result: Order = self.write(
            lambda db: commands.transition(db, self.rules, self.admin(db), order_id, event)
        )
        return result

    def order_state(self, order_id: int) -> tuple[str, str | None]:
        rows = self.query("SELECT state, kitchen_status FROM orders WHERE id = ?", order_id)
        return rows[0][0], rows[0][1]

    def jobs(self, order_id: int | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT job_id, station, kind, state, device, backup, attempts, ack_status, acked_by, "
            "last_error FROM kitchen_jobs"
        )
        rows = (
            self.query(sql + " WHERE order_id = ? ORDER BY id", order_id)
            if order_id
            else (self.query(sql + " ORDER BY id"))
        )
        keys = sql.split("SELECT ")[1].split(" FROM")[0].split(", ")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def wait_jobs(
        self, order_id: int, state: str, count: int, timeout: float = TIMEOUT
    ) -> list[dict[str, Any]]:
        def done() -> list[dict[str, Any]] | None:
            found = [j for j in self.jobs(order_id) if j["state"] == state]
            return found if len(found) >= count else None

        result: list[dict[str, Any]] = wait_until(done, timeout, f"{count} {state} jobs")
        return result

    def device_row(self, device: str) -> dict[str, Any]:
        rows = self.query("SELECT online, paper, cover, error FROM devices WHERE id = ?", device)
        online, paper, cover, error = rows[0]
        return {"online": bool(online), "paper": paper, "cover": cover, "error": error}

    def events(self, name: str) -> list[dict[str, Any]]:
        rows = self.query("SELECT data FROM events WHERE event = ? ORDER BY seq", name)
        return [json.loads(r[0]) for r in rows]


class KitchenProcess:
    """``edgehub bridge`` or ``edgehub printer`` in a child process, with its own notify socket.

    ``start()`` returns once the process has sent READY=1, as systemd would see it.
    """

    def __init__(self, name: str, args: list[str], env: dict[str, str], db: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log = db.with_name(f"{db.stem}.{name}.log")
        self.proc: launch.Command | None = None
        # AF_UNIX paths are short (108 bytes); pytest's tmp_path can be longer.
        self._dir = Path(tempfile.mkdtemp(prefix="edgehub-notify-"))
        self.notifications: list[str] = []

    def start(self, timeout: float = 30.0) -> KitchenProcess:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock_path = self._dir / f"{uuid.uuid4().hex[:8]}.sock"
        listener.bind(str(sock_path))
        listener.settimeout(0.1)
        env = {**self.env, "NOTIFY_SOCKET": str(sock_path)}
        self.proc = launch.start(self.args, env, self.log)
        deadline = time.monotonic() + timeout
        try:
            while "READY=1" not in self.notifications:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start:\n{self.log_text()[-3000:]}")
                try:
                    self.notifications.append(listener.recv(4096).decode())
                except TimeoutError:
                    continue
        finally:
            listener.close()
        return self

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no goodbye on MQTT, no clean close of SQLite."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self._dir, ignore_errors=True)


class SimPrinter:
    """A PrinterSimulator on its own event loop thread; switches may be flipped from tests."""

    def __init__(self, **switches: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.sim = PrinterSimulator("127.0.0.1", 0, **switches)
        asyncio.run_coroutine_threadsafe(self.sim.start(), self._loop).result(TIMEOUT)
        self.port = self.sim.port

    def set(self, **switches: Any) -> None:
        def apply() -> None:
            for name, value in switches.items():
                setattr(self.sim, name, value)

        self._loop.call_soon_threadsafe(apply)

    @property
    def tickets(self) -> list[ReceivedTicket]:
        return list(self.sim.tickets)

    def printed(self) -> list[Printed]:
        """What each ticket says, in print order."""
        return [Printed.read(t.text) for t in self.tickets]

    def wait_tickets(self, count: int, timeout: float = TIMEOUT) -> list[ReceivedTicket]:
        result: list[ReceivedTicket] = wait_until(
            lambda: self.tickets if len(self.tickets) >= count else None,
            timeout,
            f"{count} tickets",
        )
        return result

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self._loop).result(TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(TIMEOUT)
        self._loop.close()
