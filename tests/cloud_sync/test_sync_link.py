"""The sync agent on a bad link and against Odoo's worker limits: it still drains, exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cloud_sync.errors import Ambiguous, Retryable, WorkerLimit
from cloud_sync.payloads import order_payload
from hub.settings import Settings
from tests.cloud_sync.checks import assert_exactly_once
from tests.cloud_sync.conftest import client_for
from tests.cloud_sync.hub_side import AgentRun, Till, connected_agent, sync_env, sync_settings
from tests.cloud_sync.shop import CASH, hub_order, refs_for
from tests.odoo_emulator import OdooEmulator
from tests.support.hub_process import run_cli

pytestmark = pytest.mark.anyio

PUSH_METHODS = {"create_from_ui", "sync_from_ui"}


def _three(emulator: OdooEmulator) -> list[dict[str, Any]]:
    """Three finished orders as the pusher would send them to this Odoo."""
    refs = refs_for(emulator)
    orders = [hub_order(i, {"BURGER": 1, "COLA": 2}, tendered={CASH: "20.00"}) for i in (1, 2, 3)]
    return [order_payload(order, refs, emulator.version) for order in orders]


async def _sold(settings: Settings, count: int) -> Till:
    """A catalogue pulled over a clean link, then ``count`` orders sold and waiting."""
    async with connected_agent(settings) as agent:
        await agent.pull()
    till = Till(settings)
    p = till.products()
    till.sell(count, {p["BURGER"]: "1", p["COLA"]: "2"})
    return till


async def test_sync_once_drains_through_503s_and_dropped_answers(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """One call in five answered 503, 15 % of answers lost after the commit: --once still ends."""
    # The default backoff cap: a round that restarts from scratch on every failure
    # and doubles its wait each time never gets 20 orders through.
    settings = sync_settings(tmp_path, odoo_emulator, sync_backoff_max_seconds=300.0)
    await _sold(settings, 20)
    odoo_emulator.faults.set(error_rate=0.2, drop_rate=0.15)

    result = run_cli(settings.store.db, "sync", "--once", **sync_env(settings))

    odoo_emulator.faults.clear()
    assert result.returncode == 0, result.stderr
    assert "caught up: 20 pushed" in result.stderr
    assert_exactly_once(odoo_emulator, settings)


async def test_a_failing_pull_does_not_hold_back_orders(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """The catalogue is on the hub already: a failing product search must not stop sales."""
    settings = sync_settings(tmp_path, odoo_emulator, sync_pull_interval_seconds=0.2)
    await _sold(settings, 10)
    odoo_emulator.faults.set(error_rate=1.0, only={"product.product.search"})
    async with AgentRun(settings) as run:
        await run.until(run.drained, within=20)
        current = await run.read_status()
    odoo_emulator.faults.clear()
    assert current["last_error"] and "503" in current["last_error"]
    assert_exactly_once(odoo_emulator, settings)


async def test_a_pull_that_failed_partway_resumes_at_the_model_that_failed(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """On a bad link, a pull that starts over each time may never reach the products."""
    settings = sync_settings(tmp_path, odoo_emulator)
    async with connected_agent(settings) as agent:
        odoo_emulator.faults.set(error_rate=1.0, only={"account.tax.search"})
        with pytest.raises(Retryable):
            await agent.pull()
        odoo_emulator.faults.clear()
        before = len(odoo_emulator.calls)
        changed = await agent.pull()
    again = [c.rsplit(".", 1)[0] for c in odoo_emulator.calls[before:] if c.endswith(".search")]
    assert "pos.category" not in again  # pulled before the failure: not asked again
    assert again[0] == "account.tax"
    assert changed["categories"] and changed["products"]  # the whole pull's changes, as one


async def test_a_lost_push_answer_is_not_resent_blind(
    odoo_emulator: OdooEmulator,
) -> None:
    """Reads are retried where they failed; a push Odoo may hold is left to ask-before-resend."""
    async with client_for(odoo_emulator) as client:
        await client.login()
        odoo_emulator.faults.set(drop_rate=1.0, only=PUSH_METHODS)
        with pytest.raises(Ambiguous):
            await client.push_orders(_three(odoo_emulator))
        pushes = [c for c in odoo_emulator.calls if c.split(".")[-1] in PUSH_METHODS]
        assert len(pushes) == 1
        odoo_emulator.faults.set(drop_rate=1.0, only={"search_read"})
        with pytest.raises(Ambiguous):
            await client.search_read("pos.order", [], ["id"])
        reads = [c for c in odoo_emulator.calls if c == "pos.order.search_read"]
        assert len(reads) == 4  # the first try and three retries, then the agent's backoff
        odoo_emulator.faults.set(drop_rate=0.0, error_rate=1.0, only=PUSH_METHODS)
        with pytest.raises(Retryable):
            await client.push_orders(_three(odoo_emulator))
        pushes = [c for c in odoo_emulator.calls if c.split(".")[-1] in PUSH_METHODS]
        assert len(pushes) == 1 + 4  # a 503 ran nothing: resending is safe
    assert len(odoo_emulator.orders()) == 3


async def test_odoo_stops_a_push_past_its_worker_time_limits_and_commits_nothing(
    odoo_emulator: OdooEmulator,
) -> None:
    """Killed (real time) or stopped (CPU time), a worker leaves nothing; the client sees which."""
    async with client_for(odoo_emulator) as client:
        await client.login()
        # 3 orders of 50 s, mostly waiting: past limit_time_real (120 s), SIGKILL.
        odoo_emulator.faults.set(push_seconds_per_order=50.0, push_cpu_share=0.3)
        with pytest.raises(Ambiguous):
            await client.push_orders(_three(odoo_emulator))
        assert odoo_emulator.orders() == []
        # The same on the CPU: limit_time_cpu (60 s) trips first, and Odoo answers.
        odoo_emulator.faults.set(push_cpu_share=1.0)
        with pytest.raises(WorkerLimit) as caught:
            await client.push_orders(_three(odoo_emulator))
        assert caught.value.message == "CPU time limit exceeded."
        assert odoo_emulator.orders() == []
        pushes = [c for c in odoo_emulator.calls if c.split(".")[-1] in PUSH_METHODS]
        assert len(pushes) == 2  # neither is resent in place: it would die again
        odoo_emulator.faults.set(push_seconds_per_order=10.0)
        result = await client.push_orders(_three(odoo_emulator))
    assert len(result.accepted) == 3
    assert len(odoo_emulator.orders()) == 3


async def test_a_batch_too_long_for_odoos_worker_is_halved_until_it_fits(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Odoo kills a worker past limit_time_real, committing nothing: that batch dies forever."""
    settings = sync_settings(tmp_path, odoo_emulator, sync_batch_size=200)
    await _sold(settings, 150)
    # 3 s of (mostly I/O) worker time per order: a push of more than 40 is killed.
    odoo_emulator.faults.set(push_seconds_per_order=3.0, push_cpu_share=0.3)
    async with AgentRun(settings) as run:
        await run.until(run.drained, within=30)
        assert run.agent is not None
        assert run.agent.size.current <= 40
    odoo_emulator.faults.clear()
    assert_exactly_once(odoo_emulator, settings)


async def test_a_batch_out_of_cpu_time_is_halved_not_parked(tmp_path: Path) -> None:
    """Past limit_time_cpu Odoo answers "CPU time limit exceeded.": not the orders' fault."""
    with OdooEmulator(18) as odoo:
        settings = sync_settings(tmp_path, odoo, sync_batch_size=200)
        await _sold(settings, 150)
        # 1 s of CPU per order: a push of more than 60 runs out of CPU time.
        odoo.faults.set(push_seconds_per_order=1.0, push_cpu_share=1.0)
        async with AgentRun(settings) as run:
            await run.until(run.drained, within=30)
            assert run.agent is not None
            assert run.agent.size.current <= 60
            assert (await run.read_status())["failed"] == 0
        odoo.faults.clear()
        assert_exactly_once(odoo, settings)


async def test_sync_once_exits_nonzero_when_odoo_refuses_the_catalogue_pull(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Orders go, but a hub whose prices and taxes cannot follow Odoo's needs a person."""
    settings = sync_settings(tmp_path, odoo_emulator)
    await _sold(settings, 5)
    # Head office took the sync user out of the group that may read taxes.
    odoo_emulator.set_option("no_access", {"account.tax"})

    result = run_cli(settings.store.db, "sync", "--once", **sync_env(settings))

    assert result.returncode == 3, result.stderr
    assert "Odoo refused the catalogue pull" in result.stderr
    assert "You are not allowed to access 'account.tax'" in result.stderr
    assert len(odoo_emulator.orders()) == 5
