"""Odoo POS sessions opened and closed as each version expects (issue 11, point 6).

A session the agent opens must be ``opened`` (18+ and cash-controlled 16/17
wait in ``opening_control`` for the opening count); a closing is checked by
reading the state back, with the counted cash sent first; a session Odoo put
orders in because ours was closed at head office is reported.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cloud_sync.remote_sessions import RemoteSessions
from hub import sync_status as status
from hub.db.store import Store
from tests.cloud_sync.hub_side import AgentRun, Till, client_for, sync_settings
from tests.odoo_emulator import OdooEmulator

pytestmark = pytest.mark.anyio


def cash_control(odoo: OdooEmulator) -> None:
    seed = odoo.seed
    assert seed is not None
    odoo.write("pos.config", [seed.config_id], {"cash_control": True})


def open_sessions(odoo: OdooEmulator) -> list[dict[str, Any]]:
    return odoo.records("pos.session", [("state", "!=", "closed")])


async def two_cash_sales_in_odoo(run: AgentRun, settings: Any) -> tuple[Till, Decimal]:
    """Two burgers sold for cash, pushed to Odoo: the till, and the cash it took."""
    await run.pulled()
    till = Till(settings)
    p = till.products()
    sold = till.sell(2, {p["BURGER"]: "1"}, method="Cash")
    await run.until(run.drained)
    return till, sum((Decimal(o.amount_total) for o in sold), Decimal(0))


async def test_the_session_the_agent_opens_is_opened(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """18+ leave a session in opening_control after action_pos_session_open, and so do 16/17
    when the config counts cash: only the opening count opens it."""
    seed = odoo_emulator.seed
    assert seed is not None
    cash_control(odoo_emulator)
    odoo_emulator.set_session_state(seed.session_id, "closed")
    settings = sync_settings(tmp_path, odoo_emulator)
    async with AgentRun(settings) as run:
        await run.pulled()
        till = Till(settings)
        p = till.products()
        till.sell(3, {p["BURGER"]: "1"})
        await run.until(run.drained)
    (session,) = open_sessions(odoo_emulator)
    assert session["state"] == "opened"
    assert {o["session_id"] for o in odoo_emulator.orders()} == {session["id"]}


async def test_a_closing_odoo_refuses_is_reported_and_the_counted_cash_goes_first(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """The till closes 1.00 short. Odoo books the difference on the cash journal's loss
    account; without one it refuses, the session stays open and the status says why. A
    closing answered with the Force Close wizard is no closing either."""
    seed = odoo_emulator.seed
    assert seed is not None
    cash_control(odoo_emulator)
    (journal,) = odoo_emulator.records("account.journal")
    odoo_emulator.write("account.journal", [journal["id"]], {"loss_account_id": False})
    settings = sync_settings(tmp_path, odoo_emulator)
    async with AgentRun(settings) as run:
        till, taken = await two_cash_sales_in_odoo(run, settings)
        till.close(counted=str(taken - 1))
        await run.until_error_says("Loss Account")
    (session,) = odoo_emulator.records("pos.session", [("id", "=", seed.session_id)])
    assert session["state"] == "opened"

    store = Store(settings)
    store.start()
    try:
        async with client_for(settings) as client:
            sessions = RemoteSessions(client, store, seed.config_id)
            odoo_emulator.write("account.journal", [journal["id"]], {"loss_account_id": 1})
            odoo_emulator.set_option("unbalanced_closing", True)
            assert await sessions.close_finished() == []
            (session,) = odoo_emulator.records("pos.session", [("id", "=", seed.session_id)])
            assert session["state"] == "closing_control"
            assert "Force Close Session" in (await _last_error(store, settings))
            odoo_emulator.set_option("unbalanced_closing", False)
            assert await sessions.close_finished() == [seed.session_id]
    finally:
        store.close()
    (session,) = odoo_emulator.records("pos.session", [("id", "=", seed.session_id)])
    assert session["state"] == "closed"
    assert Decimal(str(session["cash_register_balance_end_real"])) == taken - 1


async def test_a_cash_count_odoo_refuses_stops_the_closing_and_says_why(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Odoo answers the cash count with ``successful: False`` while an order of the session
    is still a draft (another till at head office): the count is not recorded, the session
    is not closed, and the status names Odoo's reason instead of closing anyway."""
    seed = odoo_emulator.seed
    assert seed is not None
    cash_control(odoo_emulator)
    settings = sync_settings(tmp_path, odoo_emulator)
    async with AgentRun(settings) as run:
        till, taken = await two_cash_sales_in_odoo(run, settings)
        odoo_emulator.create(
            "pos.order",
            {
                "session_id": seed.session_id,
                "state": "draft",
                "amount_tax": 0.0,
                "amount_total": 0.0,
                "amount_paid": 0.0,
                "amount_return": 0.0,
            },
        )
        till.close(counted=str(taken))
        await run.until_error_says("still in draft")
    (session,) = odoo_emulator.records("pos.session", [("id", "=", seed.session_id)])
    assert session["state"] == "opened"
    assert not session["cash_register_balance_end_real"]
    # Refused at the count: the agent does not go on to ask for a closing.
    assert "pos.session.post_closing_cash_details" in odoo_emulator.calls
    assert "pos.session.action_pos_session_closing_control" not in odoo_emulator.calls


async def test_orders_odoo_put_in_another_session_are_reported(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Head office closed our session: 16/17 put the next orders in a rescue session (18+ in
    another open one). The status says so, and later orders go to a session of our own."""
    seed = odoo_emulator.seed
    assert seed is not None
    settings = sync_settings(tmp_path, odoo_emulator)
    async with AgentRun(settings) as run:
        await run.pulled()
        till = Till(settings)
        p = till.products()
        till.sell(2, {p["BURGER"]: "1"})
        await run.until(run.drained)
        odoo_emulator.set_session_state(seed.session_id, "closed")
        if odoo_emulator.version >= 18:
            # A cashier at head office opened another session of the same config.
            with odoo_emulator.db.transaction():
                env = odoo_emulator.env()
                env.create("pos.session", {"config_id": seed.config_id, "state": "opened"})
        till.sell(2, {p["FRIES"]: "1"})
        await run.until(run.drained)
        error = (await run.read_status())["last_error"] or ""
        till.sell(1, {p["COLA"]: "1"})
        await run.until(run.drained)
    assert "closed at head office" in error
    moved = {o["session_id"] for o in odoo_emulator.orders()} - {seed.session_id}
    sessions = odoo_emulator.records("pos.session", [("id", "in", sorted(moved))])
    if odoo_emulator.version <= 17:
        rescue = [s for s in sessions if s["rescue"]]
        assert len(rescue) == 1 and str(rescue[0]["id"]) in error
        (last,) = odoo_emulator.orders(
            [("session_id", "not in", [seed.session_id, rescue[0]["id"]])]
        )
        assert last["lines"][0]["product_id"] == seed.products["COLA"]


async def _last_error(store: Store, settings: Any) -> str:
    current = await store.read(status.read, settings)
    return str(current["last_error"] or "")
