"""What people see of the sync: status API, retry, /health, ``edgehub status``, CLI, systemd."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.db.connection import immediate
from hub.orders.models import Order
from hub.settings import Settings
from hub.web.api.operations_bodies import SyncItem, SyncStatus
from tests.cloud_sync.hub_side import (
    AgentRun,
    Till,
    connect,
    connected_agent,
    sync_env,
    sync_settings,
)
from tests.odoo_emulator import OdooEmulator
from tests.support import local_http
from tests.support.api_client import Api
from tests.support.bodies import typed
from tests.support.hub_process import HubProcess, hub_env, run_cli
from tests.support.notify_socket import assert_ready_watchdog_stopping, notify_conversation

pytestmark = pytest.mark.anyio


@pytest.fixture
def odoo() -> Iterator[OdooEmulator]:
    """One Odoo 18: these surfaces read the hub's tables and are the same for every version."""
    with OdooEmulator(18) as emulator:
        yield emulator


def poison(settings: Settings, till: Till) -> tuple[Order, int]:
    """Sell 5 good orders and one Odoo will refuse; returns it and the product to fix."""
    p = till.products()
    with connect(settings) as db, immediate(db):
        db.execute("UPDATE products SET remote_id = 99999 WHERE id = ?", (p["FRIES"],))
    till.sell(5, {p["BURGER"]: "1"})
    (bad,) = till.sell(1, {p["FRIES"]: "1"})
    return bad, p["FRIES"]


def fix(settings: Settings, odoo: OdooEmulator, product_id: int) -> None:
    """Link the hub product to Odoo's again (a pull may have brought Odoo's in as a new row)."""
    assert odoo.seed is not None
    with connect(settings) as db, immediate(db):
        db.execute(
            "UPDATE products SET remote_id = NULL WHERE remote_id = ?",
            (odoo.seed.products["FRIES"],),
        )
        db.execute(
            "UPDATE products SET remote_id = ? WHERE id = ?",
            (odoo.seed.products["FRIES"], product_id),
        )


async def test_status_api_shows_the_parked_order_and_retry_sends_it(
    tmp_path: Path, odoo: OdooEmulator
) -> None:
    """A manager must see why an order is stuck, fix it, and send it again from a browser."""
    settings = sync_settings(tmp_path, odoo)
    hub = HubProcess(settings.store.db, **sync_env(settings)).start()
    api = Api(hub.url)
    http = local_http.async_client()
    try:
        async with AgentRun(settings) as run:
            await run.pulled()
            till = Till(settings)
            bad, product_id = poison(settings, till)

            await run.until(_parked(run))
            body = typed(api.get("/api/v1/sync/status", as_="marco"), SyncStatus)
            assert (body["pending"], body["failed"]) == (0, 1)
            (item,) = body["parked"]
            assert item["order_id"] == bad.id and item["kind"] == "sale"
            assert "pos_order_line_product_id_fkey" in item["error"]
            assert body["remote"] == {"url": odoo.url, "version": 18, "reachable": True}
            assert body["last_success_at"] and body["oldest_pending_age"] is None
            assert api.get("/api/v1/sync/status", as_="ana").status_code == 403
            order = api.get(f"/api/v1/orders/{bad.id}").json()
            assert order["sync"] == {"state": "failed", "remote_id": None, "error": item["error"]}
            health = (await http.get(f"{hub.url}/health")).json()
            assert (health["status"], health["checks"]["sync"]) == ("degraded", "lagging")

            fix(settings, odoo, product_id)
            retried = api.post(f"/api/v1/sync/failed/{item['id']}/retry", as_="marco")
            assert typed(retried, SyncItem)["state"] == "pending"
            again = api.post(f"/api/v1/sync/failed/{item['id']}/retry", as_="marco")
            assert (again.status_code, again.json()["error"]) == (409, "not_parked")
            assert api.post("/api/v1/sync/failed/999/retry", as_="marco").status_code == 404
            await run.until(run.drained)

        order = api.get(f"/api/v1/orders/{bad.id}").json()
        assert order["sync"]["state"] == "synced" and order["sync"]["remote_id"]
        health = (await http.get(f"{hub.url}/health")).json()
        assert health["checks"]["sync"] == "ok"
        events = api.get("/api/v1/events", as_="marco", params={"limit": 500}).json()["items"]
        announced = [e["data"] for e in events if e["event"] == "sync.status"]
        assert any(e["failed"] == 1 for e in announced) and announced[-1]["failed"] == 0
    finally:
        await http.aclose()
        api.close()
        hub.stop()


def test_health_says_idle_without_odoo(api: Api, served_hub: HubProcess) -> None:
    """A store without head office is healthy: sync is idle, not failing."""
    assert local_http.get(f"{served_hub.url}/health").json()["checks"]["sync"] == "idle"


async def test_edgehub_status_and_cli_retry(tmp_path: Path, odoo: OdooEmulator) -> None:
    """The person at the box sees the parked order and can requeue it from a shell."""
    settings = sync_settings(tmp_path, odoo)
    async with AgentRun(settings) as run:
        await run.pulled()
        bad, product_id = poison(settings, Till(settings))
        await run.until(_parked(run))
    env = sync_env(settings)
    shown = run_cli(settings.store.db, "status", COLUMNS="240", **env)
    assert shown.returncode == 0
    assert "1 parked" in shown.stdout and "parked #" in shown.stdout
    assert "pos_order_line_product_id_fkey" in shown.stdout
    assert run_cli(settings.store.db, "sync", "retry", "999", **env).returncode == 2
    fix(settings, odoo, product_id)
    requeued = run_cli(settings.store.db, "sync", "retry", "--all", **env)
    assert requeued.returncode == 0 and "1 parked item(s) back" in requeued.stdout
    with connect(settings) as db:
        assert db.execute("SELECT sync_state FROM orders WHERE id = ?", (bad.id,)).fetchone() == (
            "pending",
        )


def _parked(run: AgentRun) -> Any:
    async def check() -> bool:
        current = await run.read_status()
        return bool(current["failed"] == 1 and current["pending"] == 0)

    return check


async def test_sync_once_exits_nonzero_while_anything_is_parked(
    tmp_path: Path, odoo: OdooEmulator
) -> None:
    """A script or an installer can tell a clean catch-up from one that needs a person."""
    settings = sync_settings(tmp_path, odoo)
    async with connected_agent(settings) as agent:
        await agent.pull()
    _, product_id = poison(settings, Till(settings))
    env = sync_env(settings)
    first = run_cli(settings.store.db, "sync", "--once", **env)
    assert first.returncode == 1, first.stderr
    assert "1 parked" in first.stderr and "pushing orders" in first.stderr
    assert len(odoo.orders()) == 5
    fix(settings, odoo, product_id)
    assert run_cli(settings.store.db, "sync", "retry", "--all", **env).returncode == 0
    second = run_cli(settings.store.db, "sync", "--once", **env)
    assert second.returncode == 0, second.stderr
    assert "caught up: 1 pushed" in second.stderr
    assert len(odoo.orders()) == 6


def test_sync_once_gives_up_when_odoo_stays_away(tmp_path: Path, odoo: OdooEmulator) -> None:
    """--once must end: exit 2 when Odoo never answers within its timeout."""
    settings = sync_settings(tmp_path, odoo)
    odoo.go_down("refused")
    result = run_cli(settings.store.db, "sync", "--once", "--timeout", "1", **sync_env(settings))
    assert result.returncode == 2
    assert "unreachable" in result.stderr


def test_sync_tells_systemd_ready_then_watchdog_then_stopping(
    tmp_path: Path, odoo: OdooEmulator
) -> None:
    """edgehub-sync.service is Type=notify with WatchdogSec: without READY it never starts."""
    settings = sync_settings(tmp_path, odoo)
    env = hub_env(settings.store.db, **sync_env(settings))
    assert_ready_watchdog_stopping(notify_conversation(["sync"], env))


def test_sync_once_refuses_while_the_agent_holds_the_database(
    tmp_path: Path, odoo: OdooEmulator
) -> None:
    """Two agents would send every batch twice; the second one must step back, and say why."""
    settings = sync_settings(tmp_path, odoo)
    env = hub_env(settings.store.db, **sync_env(settings))
    agent = subprocess.Popen([sys.executable, "-m", "hub.cli", "sync"], env=env)
    try:
        deadline = time.monotonic() + 20
        lock = settings.store.db.with_name(settings.store.db.name + ".sync.lock")
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.05)
        result = run_cli(settings.store.db, "sync", "--once", **sync_env(settings))
        assert result.returncode == 4
        assert f"already running (pid {agent.pid})" in result.stderr
    finally:
        agent.terminate()
        agent.wait(10)
    assert run_cli(settings.store.db, "sync", "--once", **sync_env(settings)).returncode == 0
