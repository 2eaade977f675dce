"""Pushing orders to Odoo 16-19 over HTTP: exactly once through faults, outages and bad orders."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from hub import sync_outbox
from hub.db.connection import immediate
from tests.cloud_sync.checks import assert_exactly_once
from tests.cloud_sync.hub_side import AgentRun, Till, connect, sync_settings
from tests.odoo_emulator import OdooEmulator

pytestmark = pytest.mark.anyio

PUSH_CALLS = ("pos.order.create_from_ui", "pos.order.sync_from_ui")


async def test_500_orders_through_503s_and_dropped_answers_arrive_exactly_once(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """20% of calls answered 503, 10% committed then hung up on: still 500 orders, as sold."""
    settings = sync_settings(tmp_path, odoo_emulator)
    async with AgentRun(settings) as run:
        await run.pulled()
        till = Till(settings)
        p = till.products()
        odoo_emulator.faults.set(error_rate=0.2, drop_rate=0.1)
        till.sell(250, {p["BURGER"]: "1", p["COLA"]: "2"})
        till.sell(250, {p["FRIES"]: "3", p["WATER"]: "1"}, method="Cash", overpay="2.50")
        await run.until(run.drained, within=90)
        odoo_emulator.faults.clear()
    assert len(odoo_emulator.orders()) == 500
    assert_exactly_once(odoo_emulator, settings)


async def test_odoo_down_for_1000_orders_then_everything_drains(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """The store trades through an outage; every order waits in the outbox and goes later."""
    settings = sync_settings(tmp_path, odoo_emulator)
    async with AgentRun(settings) as run:
        await run.pulled()
        till = Till(settings)
        p = till.products()
        odoo_emulator.go_down("refused")
        till.sell(1000, {p["BURGER"]: "2", p["WATER"]: "1"}, per_transaction=250)

        async def all_queued_and_waiting() -> bool:
            current = await run.read_status()
            return current["pending"] == 1000 and current["state"] == "offline"

        await run.until(all_queued_and_waiting)
        current = await run.read_status()
        assert current["remote"]["reachable"] is False
        assert current["last_error"] and "cannot reach Odoo" in current["last_error"]
        assert current["lag_seconds"] > 0
        odoo_emulator.come_back()
        await run.until(run.drained, within=60)
        assert (await run.read_status())["state"] == "running"
    assert len(odoo_emulator.orders()) == 1000
    assert_exactly_once(odoo_emulator, settings)


async def test_a_poison_order_is_parked_while_the_others_go_then_retried(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Odoo fails a whole batch for one bad order; that order alone waits, with Odoo's reason."""
    settings = sync_settings(tmp_path, odoo_emulator, sync_batch_size=25)
    seed = odoo_emulator.seed
    assert seed is not None
    async with AgentRun(settings) as run:
        await run.pulled()
        till = Till(settings)
        p = till.products()
        with connect(settings) as db, immediate(db):
            # The hub believes in an Odoo product that Odoo does not have.
            db.execute("UPDATE products SET remote_id = 99999 WHERE id = ?", (p["FRIES"],))
        till.sell(30, {p["BURGER"]: "1"})
        (poison,) = till.sell(1, {p["BURGER"]: "1", p["FRIES"]: "1"})
        till.sell(30, {p["COLA"]: "1"})

        async def poison_parked() -> bool:
            current = await run.read_status()
            return current["pending"] == 0 and current["failed"] == 1

        await run.until(poison_parked)
        (parked,) = (await run.read_status())["parked"]
        assert parked["order_id"] == poison.id
        assert "The operation cannot be completed" in parked["error"]
        assert len(odoo_emulator.orders()) == 60
        with connect(settings) as db:
            row = db.execute(
                "SELECT sync_state, sync_error FROM orders WHERE id = ?", (poison.id,)
            ).fetchone()
        assert row == ("failed", parked["error"])

        with connect(settings) as db, immediate(db):
            db.execute(
                "UPDATE products SET remote_id = ? WHERE id = ?",
                (seed.products["FRIES"], p["FRIES"]),
            )
            sync_outbox.retry(db, parked["id"])
        await run.until(run.drained)
        assert (await run.read_status())["failed"] == 0
    assert_exactly_once(odoo_emulator, settings)


async def test_a_wrong_api_key_is_reported_and_nothing_is_lost(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """A refused key must stop pushing loudly and keep every order for when it is fixed."""
    good = sync_settings(tmp_path, odoo_emulator)
    async with AgentRun(good) as run:
        await run.pulled()
    till = Till(good)
    p = till.products()
    till.sell(50, {p["BURGER"]: "1"})
    wrong = good.replace(odoo_api_key=good.odoo.api_key.__class__("revoked"))
    async with AgentRun(wrong) as run:

        async def refused() -> bool:
            return (await run.read_status())["state"] == "auth_failed"

        await run.until(refused)
        current = await run.read_status()
        assert current["pending"] == 50
        assert current["last_error"]
        assert odoo_emulator.orders() == []
    async with AgentRun(good) as run:
        await run.until(run.drained)
    assert_exactly_once(odoo_emulator, good)


async def test_a_refund_reaches_odoo_pointing_at_its_sale(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """A paid order cancelled at the till must be undone in head office's books, not forgotten."""
    settings = sync_settings(tmp_path, odoo_emulator)
    async with AgentRun(settings) as run:
        await run.pulled()
        till = Till(settings)
        p = till.products()
        sold = till.sell(
            3, {p["BURGER"]: "1", p["COLA"]: "2"}, method="Cash", overpay="3.00", complete=False
        )
        await run.until(run.drained)
        till.cancel(sold[1].id)
        await run.until(run.drained)
    assert_exactly_once(odoo_emulator, settings)
    (refund,) = [o for o in odoo_emulator.orders() if o["amount_total"] < 0]
    sale_id = next(
        o["id"] for o in odoo_emulator.orders() if o["pos_reference"].endswith(sold[1].uuid)
    )
    sale_lines = {line["id"] for line in odoo_emulator.orders([("id", "=", sale_id)])[0]["lines"]}
    assert {line["refunded_orderline_id"] for line in refund["lines"]} == sale_lines


async def test_a_timeout_is_checked_at_odoo_before_anything_is_resent(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Odoo finishes a push its client gave up on; asking first is what prevents a duplicate."""
    settings = sync_settings(tmp_path, odoo_emulator, sync_timeout_seconds=0.3)
    async with AgentRun(settings) as run:
        await run.pulled()
        till = Till(settings)
        p = till.products()
        odoo_emulator.faults.set(
            delay=1.0, only=set(PUSH_CALLS) | {"sync_from_ui", "create_from_ui"}
        )
        till.sell(5, {p["BURGER"]: "1"})
        await run.until(run.drained, within=30)
        odoo_emulator.faults.clear()
    calls = [c for c in odoo_emulator.calls if c in PUSH_CALLS or c == "pos.order.search_read"]
    assert calls[0] in PUSH_CALLS  # the first push timed out...
    for before, after in itertools.pairwise(calls):
        if before in PUSH_CALLS:
            assert after == "pos.order.search_read", calls
    assert_exactly_once(odoo_emulator, settings)


async def test_the_odoo_session_closes_after_the_hub_session_and_its_orders(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Head office's session mirrors the till's: open while it trades, closed once all is in."""
    settings = sync_settings(tmp_path, odoo_emulator)
    seed = odoo_emulator.seed
    assert seed is not None
    async with AgentRun(settings) as run:
        await run.pulled()
        till = Till(settings)
        p = till.products()
        till.sell(10, {p["BURGER"]: "1"})
        await run.until(run.drained)
        (session,) = odoo_emulator.records("pos.session")
        assert session["state"] == "opened"
        till.close()
        await run.until(lambda: odoo_emulator.records("pos.session")[0]["state"] == "closed")

        next_till = Till(settings)
        next_till.sell(5, {p["COLA"]: "1"})
        await run.until(run.drained)
    sessions = odoo_emulator.records("pos.session")
    assert [s["state"] for s in sessions] == ["closed", "opened"]
    assert {o["session_id"] for o in odoo_emulator.orders()} == {s["id"] for s in sessions}
    assert_exactly_once(odoo_emulator, settings)


async def test_orders_still_arrive_after_head_office_closed_the_session(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """16/17 book them into a rescue session; 18+ refuse, so the agent opens a new session."""
    settings = sync_settings(tmp_path, odoo_emulator)
    seed = odoo_emulator.seed
    assert seed is not None
    async with AgentRun(settings) as run:
        await run.pulled()
        till = Till(settings)
        p = till.products()
        till.sell(5, {p["BURGER"]: "1"})
        await run.until(run.drained)
        odoo_emulator.set_session_state(seed.session_id, "closed")
        till.sell(5, {p["FRIES"]: "1"})
        await run.until(run.drained)
    later = {o["session_id"] for o in odoo_emulator.orders()} - {seed.session_id}
    (other,) = odoo_emulator.records("pos.session", [("id", "in", sorted(later))])
    assert other["rescue"] is (odoo_emulator.version <= 17)
    assert_exactly_once(odoo_emulator, settings)
