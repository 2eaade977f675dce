"""The hub side of the sync tests: a demo store wired to an Odoo emulator, and a till.

Orders are sold through ``hub.orders.commands`` in this process, many per
transaction (the HTTP path is tested elsewhere; here it would only cost
time), so every order has the same rows and events as a till's. The agent
runs in this process too (``AgentRun``), or as ``edgehub sync`` in a child
process where a test kills it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from cloud_sync.agent import Agent
from cloud_sync.daemon import make_client
from cloud_sync.odoo import OdooClient
from hub.auth.users import Actor
from hub.db.connection import immediate, open_db
from hub.db.store import Store
from hub.orders import commands
from hub.orders.commands import LineInput, OrderRules, PaymentInput
from hub.orders.models import Order
from hub.orders.money import Money
from hub.sessions import close_session, open_session
from hub.settings import Settings, value_of
from tests.conftest import demo_database, make_settings
from tests.odoo_emulator import OdooEmulator

MONEY = Money()
GIFT_CARD = 32  # a demo store product that skips the kitchen

RETRY_PAUSE_SECONDS = 0.005
"""The first pause between tries of a failed Odoo call, a tenth of the shipped one: the
tests count tries, not how long the pauses last."""


def sync_settings(tmp_path: Path, emulator: OdooEmulator, **overrides: Any) -> Settings:
    """A demo-store database configured to sync with ``emulator``, with test-sized delays."""
    seed = emulator.seed
    assert seed is not None
    values: dict[str, Any] = {
        "odoo_url": emulator.url,
        "odoo_db": emulator.dbname,
        "odoo_login": seed.login,
        "odoo_api_key": seed.api_key,
        "odoo_pos_config_id": seed.config_id,
        "sync_timeout_seconds": 2.0,
        "sync_backoff_max_seconds": 0.5,
        "sync_batch_size": 100,
        "sync_poll_seconds": 0.02,
        "sync_retry_pause_seconds": RETRY_PAUSE_SECONDS,
    }
    values.update(overrides)
    return make_settings(demo_database(tmp_path / "edgehub.db"), **values)


def sync_env(settings: Settings) -> dict[str, str]:
    """The same configuration as ``EDGEHUB_*`` variables, for an ``edgehub sync`` child."""
    names = (
        "odoo_url",
        "odoo_db",
        "odoo_login",
        "odoo_pos_config_id",
        "sync_timeout_seconds",
        "sync_backoff_max_seconds",
        "sync_batch_size",
        "sync_pull_interval_seconds",
        "sync_poll_seconds",
        "sync_retry_pause_seconds",
    )
    env = {f"EDGEHUB_{n.upper()}": str(value_of(settings, n)) for n in names}
    assert settings.odoo.api_key is not None
    env["EDGEHUB_ODOO_API_KEY"] = settings.odoo.api_key.get_secret_value()
    return env


def client_for(settings: Settings) -> OdooClient:
    """The client the daemon makes (``cloud_sync.daemon.make_client``); sync must be set up."""
    client = make_client(settings)
    assert client is not None
    return client


@contextmanager
def connect(settings: Settings) -> Iterator[sqlite_utils.Database]:
    db = open_db(settings)
    try:
        yield db
    finally:
        db.close()


class Till:
    """Sells orders straight through the hub's services, in a session of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rules = OrderRules(
            money=MONEY, store=settings.store.code, max_discount_pct=Decimal(30)
        )
        with connect(settings) as db:
            (admin,) = db.execute("SELECT id FROM users WHERE login = 'admin'").fetchone()
            self.actor = Actor(id=admin, role="admin", name="Admin")
            with immediate(db):
                session = open_session(db, MONEY, self.actor, terminal="till-1", opening_cash=0)
        self.session_id: int = session.id

    def products(self) -> dict[str, int]:
        """Hub ids of the products pulled from Odoo, by internal reference."""
        with connect(self.settings) as db:
            rows = db.execute(
                "SELECT default_code, id FROM products WHERE remote_id IS NOT NULL"
            ).fetchall()
        return dict(rows)

    def method(self, name: str) -> int:
        with connect(self.settings) as db:
            (method_id,) = db.execute(
                "SELECT id FROM payment_methods WHERE name = ?", (name,)
            ).fetchone()
        return int(method_id)

    def sell(
        self,
        count: int,
        items: dict[int, str],
        *,
        method: str = "Card",
        overpay: str = "0",
        complete: bool = True,
        per_transaction: int = 100,
    ) -> list[Order]:
        """``count`` orders of ``items`` (hub product id → qty), paid (and completed)."""
        method_id = self.method(method)
        extra = MONEY.parse(overpay)
        sold: list[Order] = []
        with connect(self.settings) as db:
            while len(sold) < count:
                with immediate(db):
                    for _ in range(min(per_transaction, count - len(sold))):
                        sold.append(self._one(db, items, method_id, extra, complete))
        return sold

    def _one(
        self,
        db: sqlite_utils.Database,
        items: dict[int, str],
        method_id: int,
        extra: int,
        complete: bool,
    ) -> Order:
        import uuid

        lines = [LineInput(product_id=p, qty=Decimal(q)) for p, q in items.items()]
        order, _ = commands.create_order(
            db,
            self.rules,
            self.actor,
            uuid=str(uuid.uuid4()),
            session_id=self.session_id,
            lines=lines,
            note="",
            fingerprint="test",
        )
        order = commands.transition(db, self.rules, self.actor, order.id, "validate")
        total = MONEY.parse(order.amount_total)
        payment = PaymentInput(method_id=method_id, amount=total + extra)
        order = commands.transition(db, self.rules, self.actor, order.id, "pay", payments=[payment])
        if not complete:
            return order
        return commands.transition(db, self.rules, self.actor, order.id, "complete")

    def cancel(self, order_id: int) -> Order:
        """Cancel a paid order: the hub refunds it."""
        with connect(self.settings) as db, immediate(db):
            return commands.transition(
                db, self.rules, self.actor, order_id, "cancel", reason="customer changed mind"
            )

    def close(self, counted: str = "0") -> None:
        """Close the till's session with ``counted`` cash in the drawer."""
        with connect(self.settings) as db, immediate(db):
            closing_cash = MONEY.parse(counted)
            close_session(db, MONEY, self.actor, self.session_id, closing_cash=closing_cash)


@asynccontextmanager
async def connected_agent(settings: Settings) -> AsyncIterator[Agent]:
    """An agent logged in to Odoo, not looping: the test drives ``pull`` and ``step``."""
    store = Store(settings)
    store.start()
    try:
        async with client_for(settings) as client:
            agent = Agent(settings, store, client)
            await agent.connect()
            yield agent
    finally:
        store.close()


class AgentRun:
    """The agent running in this event loop until the test has seen what it waits for."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings)
        self.client = client_for(settings)
        self.agent: Agent | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AgentRun:
        self.store.start()
        self.agent = Agent(self.settings, self.store, self.client)
        self._task = asyncio.create_task(self.agent.run(self._stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)
        await self.client.aclose()
        self.store.close()

    async def until(
        self, condition: Callable[[], Awaitable[bool] | bool], within: float = 30.0
    ) -> None:
        """Wait for ``condition`` (checked every 20 ms); fail with the agent's state if late."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self._task is not None and self._task.done():
                self._task.result()
                raise AssertionError("the agent stopped")
            result = condition()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)
        status = await self.read_status()
        raise AssertionError(f"timed out; agent error: {self.agent and self.agent.error}; {status}")

    async def until_error_says(self, text: str) -> None:
        """Wait for the status's last error to contain ``text``."""

        async def says() -> bool:
            return text in ((await self.read_status())["last_error"] or "")

        await self.until(says)

    async def pulled(self) -> None:
        """Wait for the agent's first catalogue pull: orders need its ids."""
        await self.until(lambda: self.agent is not None and self.agent.pulls > 0)

    async def read_status(self) -> dict[str, Any]:
        from hub import sync_status as status

        return await self.store.read(status.read, self.settings)

    async def drained(self) -> bool:
        """Nothing left to push and the log read to its head."""
        current = await self.read_status()
        return current["pending"] == 0 and current["unread_events"] == 0


def order_rows(settings: Settings) -> list[dict[str, Any]]:
    """Each hub order's uuid, amounts and sync columns."""
    with connect(settings) as db:
        cursor = db.execute(
            "SELECT id, uuid, state, amount_total, change, sync_state, sync_remote_id, sync_error "
            "FROM orders ORDER BY id"
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
