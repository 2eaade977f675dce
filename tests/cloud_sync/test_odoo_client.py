"""OdooClient against the Odoo emulator over real HTTP, for Odoo 16, 17, 18 and 19."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from cloud_sync.errors import Ambiguous, AuthFailed, Rejected, Retryable
from cloud_sync.odoo import OdooClient
from cloud_sync.payloads import order_payload, order_reference, refund_order, uuid_from_reference
from tests.cloud_sync.conftest import client_for
from tests.cloud_sync.shop import CARD, CASH, hub_order, refs_for
from tests.odoo_emulator import OdooEmulator

pytestmark = pytest.mark.anyio

PUSH_METHODS = {"create_from_ui", "sync_from_ui"}


def payloads_for(emulator: OdooEmulator, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    refs = refs_for(emulator)
    return [order_payload(order, refs, emulator.version) for order in orders]


def three_orders() -> list[dict[str, Any]]:
    return [
        hub_order(1, {"BURGER": 1, "COLA": 2}, tendered={CASH: "20.00"}),
        hub_order(2, {"FRIES": 3}),
        hub_order(3, {"WATER": 1, "BURGER": 2}, tendered={CARD: "10.00", CASH: "20.00"}),
    ]


def assert_stored_like(emulator: OdooEmulator, orders: list[dict[str, Any]]) -> None:
    """Odoo holds exactly these orders, paid, with the hub's amounts, lines and payments."""
    stored = {uuid_from_reference(o["pos_reference"]): o for o in emulator.orders()}
    assert sorted(stored) == sorted(o["uuid"] for o in orders)
    for order in orders:
        remote = stored[order["uuid"]]
        assert remote["state"] == "paid"
        assert Decimal(str(remote["amount_total"])) == Decimal(order["amount_total"])
        assert Decimal(str(remote["amount_tax"])) == Decimal(order["amount_tax"])
        assert Decimal(str(remote["amount_paid"])) == Decimal(order["amount_total"])
        assert Decimal(str(remote["amount_return"])) == Decimal(order["change"])
        assert sorted(Decimal(str(line["qty"])) for line in remote["lines"]) == sorted(
            Decimal(line["qty"]) for line in order["lines"]
        )
        tendered = sorted(
            Decimal(str(p["amount"])) for p in remote["payments"] if not p["is_change"]
        )
        assert tendered == sorted(Decimal(p["amount"]) for p in order["payments"])
        change = [Decimal(str(p["amount"])) for p in remote["payments"] if p["is_change"]]
        assert sum(change, Decimal(0)) == -Decimal(order["change"])


async def test_detect_version_finds_the_major_version(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """The client picks JSON-2 or JSON-RPC and the push method from this number."""
    assert await odoo_client.detect_version() == odoo_emulator.version
    fallback_used = "common.version" in odoo_emulator.calls
    assert fallback_used is (odoo_emulator.version < 19)


async def test_login_returns_the_sync_users_uid(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """Orders are recorded under this uid; a login that works proves the key and database."""
    assert odoo_emulator.seed is not None
    assert await odoo_client.login() == odoo_emulator.seed.uid


async def test_wrong_api_key_raises_auth_failed(odoo_emulator: OdooEmulator) -> None:
    """A wrong key must stop the sync loudly, not be retried forever as if Odoo were down."""
    async with client_for(odoo_emulator, api_key="not-the-key") as client:
        with pytest.raises(AuthFailed):
            await client.login()


async def test_key_revoked_after_login_raises_auth_failed_on_calls(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """A key revoked at head office while the hub runs surfaces as AccessDenied / 401."""
    await odoo_client.login()
    odoo_emulator.faults.set(wrong_api_key=True)
    with pytest.raises(AuthFailed):
        await odoo_client.search_read("product.product", [], ["name"])


async def test_wrong_database_raises_auth_failed(odoo_emulator: OdooEmulator) -> None:
    """A misspelt database is a configuration error, not a reason to retry."""
    async with client_for(odoo_emulator, db="no-such-db") as client:
        with pytest.raises(AuthFailed):
            await client.login()


async def test_search_read_by_write_date_sees_changes_and_archivals(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """The catalogue pull must see every change after its watermark, archivals included."""
    seed = odoo_emulator.seed
    assert seed is not None
    rows = await odoo_client.search_read(
        "product.product", [], ["write_date"], context={"active_test": False}
    )
    watermark = max(row["write_date"] for row in rows)
    odoo_emulator.advance_clock(minutes=5)
    odoo_emulator.write("product.product", [seed.products["FRIES"]], {"lst_price": 3.9})
    odoo_emulator.write("product.product", [seed.products["WATER"]], {"active": False})

    changed = await odoo_client.search_read(
        "product.product",
        [("write_date", ">", watermark)],
        ["name", "lst_price", "active", "write_date"],
        context={"active_test": False},
    )

    by_name = {row["name"]: (row["lst_price"], row["active"]) for row in changed}
    assert by_name["Fries"] == (3.9, True)
    assert by_name["Water"] == (1.5, False)


async def test_write_date_watermark_rereads_its_own_second_and_never_misses(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """write_date reads to the second, compares to the microsecond: pulls see a second twice."""
    seed = odoo_emulator.seed
    assert seed is not None
    odoo_emulator.advance_clock(minutes=5)
    odoo_emulator.write("product.product", [seed.products["FRIES"]], {"lst_price": 3.9})
    (fries,) = await odoo_client.search_read(
        "product.product", [("id", "=", seed.products["FRIES"])], ["write_date"]
    )
    watermark = fries["write_date"]
    odoo_emulator.advance_clock(minutes=5)
    odoo_emulator.write("product.product", [seed.products["COLA"]], {"lst_price": 2.7})

    changed = await odoo_client.search_read(
        "product.product", [("write_date", ">", watermark)], ["name", "write_date"]
    )

    assert sorted(row["name"] for row in changed) == ["Cola", "Fries"]
    assert all(row["write_date"] >= watermark for row in changed)


async def test_search_read_hides_archived_records_by_default(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """Without active_test False an archived product silently disappears from the pull."""
    seed = odoo_emulator.seed
    assert seed is not None
    odoo_emulator.write("product.product", [seed.products["WATER"]], {"active": False})
    rows = await odoo_client.search_read("product.product", [], ["name"])
    assert "Water" not in {row["name"] for row in rows}
    assert len(rows) == 3


async def test_push_creates_exactly_the_orders_with_their_amounts_and_payments(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """What head office books must equal what the till took, order by order."""
    orders = three_orders()
    result = await odoo_client.push_orders(payloads_for(odoo_emulator, orders))
    assert sorted(result.accepted) == sorted(o["uuid"] for o in orders)
    assert result.skipped == ()
    assert_stored_like(odoo_emulator, orders)
    stored_ids = {o["id"] for o in odoo_emulator.orders()}
    assert set(result.accepted.values()) == stored_ids


async def test_resending_a_batch_creates_no_duplicates(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """A resend after any doubt must be harmless: each version's dedupe key has to hold."""
    orders = three_orders()
    payloads = payloads_for(odoo_emulator, orders)
    first = await odoo_client.push_orders(payloads)
    again = await odoo_client.push_orders(payloads_for(odoo_emulator, orders))
    if odoo_emulator.version >= 19:
        # 19's sync_from_ui answers a finalized resend with the order it holds.
        assert again.accepted == first.accepted and again.skipped == ()
    else:
        assert again.accepted == {}
        assert sorted(again.skipped) == sorted(o["uuid"] for o in orders)
    assert len(odoo_emulator.orders()) == 3
    assert_stored_like(odoo_emulator, orders)


@pytest.mark.parametrize("version", [18, 19])
async def test_resend_answered_with_the_existing_orders_counts_as_accepted(version: int) -> None:
    """Later 18.x/19 releases answer a resend with the stored order; same outcome for the agent."""
    with OdooEmulator(version) as emulator:
        emulator.set_option("sync_returns_existing", True)
        orders = three_orders()
        async with client_for(emulator) as client:
            first = await client.push_orders(payloads_for(emulator, orders))
            again = await client.push_orders(payloads_for(emulator, orders))
        assert again.accepted == first.accepted and again.skipped == ()
        assert len(emulator.orders()) == 3


async def test_a_503_raises_retryable_and_stores_nothing(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """A 503 means Odoo ran nothing: send again, no need to ask first."""
    await odoo_client.login()
    odoo_emulator.faults.set(error_rate=1.0)
    with pytest.raises(Retryable) as caught:
        await odoo_client.push_orders(payloads_for(odoo_emulator, three_orders()))
    assert not isinstance(caught.value, Ambiguous)
    assert caught.value.status == 503
    assert odoo_emulator.orders() == []


async def test_connection_dropped_after_commit_is_ambiguous_and_find_orders_sees_it(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """An answer lost after the commit must not become a second order at head office."""
    orders = three_orders()
    await odoo_client.login()
    odoo_emulator.faults.set(drop_rate=1.0, only=PUSH_METHODS)
    with pytest.raises(Ambiguous):
        await odoo_client.push_orders(payloads_for(odoo_emulator, orders))
    odoo_emulator.faults.clear()

    found = await odoo_client.find_orders(
        references={o["uuid"]: order_reference(o) for o in orders}
    )

    assert sorted(f.uuid or "" for f in found) == sorted(o["uuid"] for o in orders)
    assert {f.state for f in found} == {"paid"}
    totals = {f.uuid: f.amount_total for f in found}
    assert totals == {o["uuid"]: Decimal(o["amount_total"]) for o in orders}
    again = await odoo_client.push_orders(payloads_for(odoo_emulator, orders))
    if odoo_emulator.version >= 19:
        # 19 answers a finalized resend with the order it already holds.
        assert again.accepted == {f.uuid: f.id for f in found}
        assert {o.state for o in again.orders.values()} == {"paid"}
    else:
        assert again.accepted == {}
    assert len(odoo_emulator.orders()) == 3


async def test_timeout_after_send_is_ambiguous_and_the_order_still_commits(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """Odoo finishes a request its client gave up on; the client must say it may have."""
    orders = three_orders()[:1]
    await odoo_client.login()
    odoo_emulator.faults.set(delay=0.6, only=PUSH_METHODS)
    with pytest.raises(Ambiguous):
        await odoo_client.push_orders(payloads_for(odoo_emulator, orders), time_limit=0.2)
    odoo_emulator.faults.clear()

    for _ in range(50):
        if await odoo_client.find_orders(
            references={orders[0]["uuid"]: order_reference(orders[0])}
        ):
            break
        await asyncio.sleep(0.05)
    assert_stored_like(odoo_emulator, orders)


async def test_unknown_product_rejects_the_whole_batch_with_odoos_message(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """One bad line fails the batch in Odoo; the agent needs Odoo's reason to show and park it."""
    orders = three_orders()
    refs = refs_for(odoo_emulator)
    broken = refs_for(odoo_emulator, products={**refs.products, 102: 9999})
    payloads = [
        order_payload(orders[0], refs, odoo_emulator.version),
        order_payload(orders[1], broken, odoo_emulator.version),
        order_payload(orders[2], refs, odoo_emulator.version),
    ]
    with pytest.raises(Rejected) as caught:
        await odoo_client.push_orders(payloads)
    assert caught.value.remote_name == "odoo.exceptions.ValidationError"
    assert "The operation cannot be completed" in caught.value.message
    assert "pos_order_line_product_id_fkey" in caught.value.message
    assert odoo_emulator.orders() == []


async def test_connection_refused_is_retryable_and_recovers(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """Odoo being down is the normal offline case: retry later, nothing to check."""
    await odoo_client.login()
    odoo_emulator.go_down("refused")
    with pytest.raises(Retryable) as caught:
        await odoo_client.search_read("product.product", [], ["name"])
    assert not isinstance(caught.value, Ambiguous)
    odoo_emulator.come_back()
    for _ in range(3):
        try:
            rows = await odoo_client.search_read("product.product", [], ["name"])
            break
        except Ambiguous:
            continue  # a pooled connection from before the outage; the next is fresh
    assert len(rows) == 4


async def test_a_gateway_502_is_ambiguous(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """A proxy's 502 cannot say whether Odoo got the request, so a push must be checked."""
    await odoo_client.login()
    odoo_emulator.go_down("502")
    with pytest.raises(Ambiguous) as caught:
        await odoo_client.push_orders(payloads_for(odoo_emulator, three_orders()))
    assert caught.value.status == 502


async def test_serialization_failure_is_retryable_not_ambiguous(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """A concurrent update at Odoo rolled the call back: resend without asking."""
    await odoo_client.login()
    odoo_emulator.faults.set(serialization_failure_rate=1.0, only=PUSH_METHODS)
    with pytest.raises(Retryable) as caught:
        await odoo_client.push_orders(payloads_for(odoo_emulator, three_orders()))
    assert not isinstance(caught.value, Ambiguous)
    assert "could not serialize access" in caught.value.message
    assert odoo_emulator.orders() == []


async def test_unknown_model_and_method_are_rejected(odoo_client: OdooClient) -> None:
    """Calling what this Odoo lacks is a bug or a missing module: retrying cannot fix it."""
    with pytest.raises(Rejected):
        await odoo_client.search_read("no.such.model", [], ["name"])
    with pytest.raises(Rejected):
        await odoo_client.call("pos.order", "no_such_method")


async def test_open_session_reuses_the_open_one_and_close_session_closes_it(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """The agent opens a session to book into and closes it at end of day."""
    seed = odoo_emulator.seed
    assert seed is not None
    assert await odoo_client.open_session(seed.config_id) == seed.session_id
    await odoo_client.close_session(seed.session_id)
    assert odoo_emulator.records("pos.session", [("id", "=", seed.session_id)])[0]["state"] == (
        "closed"
    )
    new_id = await odoo_client.open_session(seed.config_id)
    assert new_id != seed.session_id
    assert odoo_emulator.records("pos.session", [("id", "=", new_id)])[0]["state"] == "opened"


async def test_close_session_with_cash_control_goes_through_closing_control(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """With cash control Odoo stops in closing_control; the agent must finish the close."""
    seed = odoo_emulator.seed
    assert seed is not None
    odoo_emulator.write("pos.config", [seed.config_id], {"cash_control": True})
    await odoo_client.close_session(seed.session_id)
    assert odoo_emulator.records("pos.session", [("id", "=", seed.session_id)])[0]["state"] == (
        "closed"
    )


async def test_order_for_a_closed_session_follows_each_versions_rule(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """16/17 book into a rescue session; 18+ refuse unless another session is open."""
    seed = odoo_emulator.seed
    assert seed is not None
    odoo_emulator.set_session_state(seed.session_id, "closed")
    orders = three_orders()[:1]
    if odoo_emulator.version <= 17:
        await odoo_client.push_orders(payloads_for(odoo_emulator, orders))
        (stored,) = odoo_emulator.orders()
        (rescue,) = odoo_emulator.records("pos.session", [("id", "=", stored["session_id"])])
        assert rescue["rescue"] is True and rescue["id"] != seed.session_id
        return
    with pytest.raises(Rejected) as caught:
        await odoo_client.push_orders(payloads_for(odoo_emulator, orders))
    assert caught.value.message == (
        "No open session available. Please open a new session to capture the order."
    )
    new_session = await odoo_client.open_session(seed.config_id)
    await odoo_client.push_orders(payloads_for(odoo_emulator, orders))
    assert [o["session_id"] for o in odoo_emulator.orders()] == [new_session]


async def test_refund_points_at_the_refunded_line(
    odoo_emulator: OdooEmulator, odoo_client: OdooClient
) -> None:
    """A refund must undo the sale in Odoo's books and say which sale it undoes."""
    sale = hub_order(1, {"BURGER": 1, "COLA": 2}, tendered={CASH: "20.00"})
    pushed = await odoo_client.push_orders(payloads_for(odoo_emulator, [sale]))
    lines = await odoo_client.search_read(
        "pos.order.line",
        [("order_id", "=", pushed.accepted[sale["uuid"]])],
        ["id", "product_id", "qty"],
        order="id",
    )
    line_map = {hub["id"]: remote["id"] for hub, remote in zip(sale["lines"], lines, strict=True)}
    refund = refund_order(sale, uuid="5f0c7d1e-refund-0001", created_at="2024-05-02T11:00:00Z")
    refs = refs_for(odoo_emulator, order_lines=line_map)

    await odoo_client.push_orders([order_payload(refund, refs, odoo_emulator.version)])

    (stored,) = odoo_emulator.orders([("pos_reference", "=", order_reference(refund))])
    assert stored["state"] == "paid"
    assert Decimal(str(stored["amount_total"])) == -Decimal(sale["amount_total"])
    assert sorted(line["refunded_orderline_id"] for line in stored["lines"]) == sorted(
        line_map.values()
    )
    assert all(line["qty"] < 0 for line in stored["lines"])
    assert sum(p["amount"] for p in stored["payments"]) == pytest.approx(
        -float(sale["amount_total"])
    )
