"""``edgehub sync`` killed with SIGKILL at random points and restarted: still exactly once."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

from hub import sync_status as status
from hub.settings import Settings
from tests.cloud_sync.checks import assert_exactly_once
from tests.cloud_sync.hub_side import Till, connect, sync_env, sync_settings
from tests.odoo_emulator import OdooEmulator
from tests.support import launch
from tests.support.hub_process import hub_env

PUSH_METHODS = {"sync_from_ui", "create_from_ui"}


def start_agent(settings: Settings, log: Path) -> launch.Command:
    return launch.start(["sync"], hub_env(settings.store.db, **sync_env(settings)), log)


def wait_for(settings: Settings, condition: str, timeout: float = 30.0) -> None:
    """Poll the database until ``condition`` (an SQL expression) holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connect(settings) as db:
            if db.execute(f"SELECT {condition}").fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {condition}")


def in_flight(settings: Settings) -> int:
    with connect(settings) as db:
        return int(db.execute("SELECT COUNT(*) FROM sync_outbox WHERE in_flight = 1").fetchone()[0])


def test_sigkill_at_random_points_then_restart_pushes_each_order_once(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """A kill between Odoo's commit and the hub's record must not become a second order."""
    settings = sync_settings(tmp_path, odoo_emulator, sync_batch_size=20)
    log = tmp_path / "sync.log"
    rng = random.Random(odoo_emulator.version)
    agent = start_agent(settings, log)
    try:
        wait_for(settings, "EXISTS (SELECT 1 FROM products WHERE remote_id IS NOT NULL)")
        till = Till(settings)
        p = till.products()
        # Each push stays in flight at Odoo for a while, and commits even if the agent dies.
        odoo_emulator.faults.set(delay=0.15, only=PUSH_METHODS)
        kills_mid_flight = 0
        for round_ in range(6):
            till.sell(40, {p["BURGER"]: "1", p["WATER"]: "2"})
            if agent.poll() is not None:
                agent = start_agent(settings, log)
            if round_ % 2:
                # Anywhere: starting, pulling, pushing, recording or idle.
                time.sleep(rng.uniform(0.1, 1.0))
            else:
                # While a push is out: Odoo will commit it, the hub will not hear.
                wait_for(settings, "EXISTS (SELECT 1 FROM sync_outbox WHERE in_flight = 1)")
                time.sleep(rng.uniform(0.0, 0.1))
            agent.send_signal(signal.SIGKILL)
            agent.wait(10)
            kills_mid_flight += in_flight(settings) > 0
        odoo_emulator.faults.clear()

        agent = start_agent(settings, log)
        wait_for(
            settings,
            "(SELECT COUNT(*) FROM sync_outbox WHERE state != 'done') = 0 "
            "AND (SELECT MAX(seq) FROM events WHERE event != 'sync.status') "
            "<= (SELECT seq FROM cursors WHERE consumer = 'sync')",
        )
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(10) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
    assert kills_mid_flight > 0, "no kill landed between a push and its record"
    with connect(settings) as db:
        assert status.agent_row(db)["state"] == "stopped"
    assert len(odoo_emulator.orders()) == 240
    assert_exactly_once(odoo_emulator, settings)
