"""Fixtures for the WebSocket tests: demo databases and served hubs with fast timings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub import events
from hub.auth.users import Actor, add_user
from hub.db.connection import immediate, open_db
from hub.db.migrations import migrate
from hub.demo import load_demo
from hub.orders import commands
from hub.orders.commands import LineInput, OrderRules
from hub.orders.money import Money
from tests.conftest import make_settings
from tests.support import local_http
from tests.support.api_client import Api
from tests.support.hub_process import FAST_HASH, HubProcess

# Pings every second, a silent client dropped after two: dead-peer tests stay short.
FAST_WS = {"EDGEHUB_WS_PING_INTERVAL": "1", "EDGEHUB_WS_PING_TIMEOUT": "1"}
DEVICE_LOGIN, DEVICE_PIN = "kds-grill", "4321"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def demo_db(path: Path) -> Path:
    """A database file with the demo store and one ``device`` user."""
    settings = make_settings(path)
    db = open_db(settings)
    migrate(db)
    with immediate(db):
        load_demo(db, pin_iterations=settings.auth.pin_hash_iterations)
        add_user(
            db,
            login=DEVICE_LOGIN,
            name="Grill screen",
            role="device",
            pin=DEVICE_PIN,
            iterations=int(FAST_HASH),
        )
    db.close()
    return path


def login(base_url: str, user: str, pin: str) -> str:
    r = local_http.post(f"{base_url}/api/v1/auth/token", json={"login": user, "pin": pin})
    r.raise_for_status()
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def rt_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One hub per test module; tests keep apart by opening their own sessions."""
    hub = HubProcess(demo_db(tmp_path_factory.mktemp("rt") / "edgehub.db"), **FAST_WS).start()
    yield hub
    hub.stop()


@pytest.fixture
def rt_api(rt_hub: HubProcess) -> Iterator[Api]:
    client = Api(rt_hub.url)
    yield client
    client.close()


def write_orders(db_path: Path, session_id: int, count: int) -> list[int]:
    """Place ``count`` orders straight into the database file, as another hub process would.

    Goes through ``hub.orders.commands`` in this test process, one transaction
    for all of them; returns their event seqs.
    """
    settings = make_settings(db_path)
    money = Money(settings.rules.currency_digits)
    rules = OrderRules(money=money, store=settings.store.code, max_discount_pct=Decimal(30))
    db = open_db(settings)
    seqs = []
    try:
        with immediate(db):
            for _ in range(count):
                commands.create_order(
                    db,
                    rules,
                    Actor(id=3, role="cashier", name="Ana"),
                    uuid=str(uuid.uuid4()),
                    session_id=session_id,
                    lines=[LineInput(product_id=1, qty=Decimal(1))],
                    note="",
                    fingerprint=uuid.uuid4().hex,
                )
                seqs.append(events.head(db))
    finally:
        db.close()
    return seqs


def room_seqs(db_path: Path, room: str, after: int = 0) -> list[int]:
    """Ground truth: the seqs of ``room``'s events in the log, read from the file itself."""
    db = open_db(make_settings(db_path), readonly=True)
    try:
        rows = db.execute(
            "SELECT seq FROM events WHERE seq > ? AND instr(' ' || rooms || ' ', ?) > 0 "
            "ORDER BY seq",
            (after, f" {room} "),
        ).fetchall()
    finally:
        db.close()
    return [r[0] for r in rows]


def log_head(db_path: Path) -> int:
    db = open_db(make_settings(db_path), readonly=True)
    try:
        return events.head(db)
    finally:
        db.close()


def realtime_stats(api: Api) -> dict[str, Any]:
    """The hub's realtime counters (``GET /api/v1/realtime/stats``), as a manager reads them."""
    r = api.get("/api/v1/realtime/stats", "marco")
    assert r.status_code == 200, r.text
    return dict(r.json())
