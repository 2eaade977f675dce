"""The one assertion every sync test ends with: Odoo holds each hub order exactly once, as sold."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from cloud_sync.outbox import refund_uuid
from cloud_sync.payloads import uuid_from_reference
from hub.orders import repository
from hub.orders.machine import PAID_STATES
from hub.orders.models import Order, OrderSync
from hub.settings import Settings
from tests.cloud_sync.hub_side import MONEY, connect
from tests.odoo_emulator import OdooEmulator


def hub_orders(settings: Settings) -> list[Order]:
    """Every hub order."""
    with connect(settings) as db:
        ids = [r[0] for r in db.execute("SELECT id FROM orders ORDER BY id").fetchall()]
        orders = [repository.get_order(db, MONEY, i) for i in ids]
    return [o for o in orders if o is not None]


def expected_at_odoo(settings: Settings) -> dict[str, dict[str, Any]]:
    """uuid → what Odoo must hold: each sale, and each refund of a cancelled paid order."""
    expected: dict[str, dict[str, Any]] = {}
    for order in hub_orders(settings):
        paid = [p for p in order.payments if p.kind == "payment"]
        refunds = [p for p in order.payments if p.kind == "refund"]
        if order.state not in PAID_STATES and not refunds:
            continue
        expected[order.uuid] = {
            "amount_total": Decimal(order.amount_total),
            "change": Decimal(order.change),
            "payments": sorted(Decimal(p.amount) for p in paid),
        }
        if refunds:
            expected[refund_uuid(order.uuid)] = {
                "amount_total": -Decimal(order.amount_total),
                "change": Decimal(0),
                "payments": sorted(Decimal(p.amount) for p in refunds),
            }
    return expected


def assert_exactly_once(emulator: OdooEmulator, settings: Settings) -> None:
    """No order missing, none twice, each paid at Odoo with the hub's amounts and payments."""
    expected = expected_at_odoo(settings)
    stored = emulator.orders()
    keys = Counter(uuid_from_reference(o["pos_reference"] or "") for o in stored)
    duplicates = {k: n for k, n in keys.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} order(s) twice at Odoo"
    assert set(keys) == set(expected), (
        f"missing at Odoo: {len(set(expected) - set(keys))}, "
        f"unknown at Odoo: {len(set(keys) - set(expected))}"
    )
    for order in stored:
        want = expected[uuid_from_reference(order["pos_reference"]) or ""]
        assert order["state"] == "paid", order["pos_reference"]
        assert _money(order["amount_total"]) == want["amount_total"]
        assert _money(order["amount_paid"]) == want["amount_total"]
        assert _money(order["amount_return"]) == want["change"]
        tendered = sorted(_money(p["amount"]) for p in order["payments"] if not p["is_change"])
        assert tendered == want["payments"], order["pos_reference"]
        change = sum((_money(p["amount"]) for p in order["payments"] if p["is_change"]), Decimal(0))
        assert change == -want["change"]
    odoo_ids = {uuid_from_reference(o["pos_reference"]): o["id"] for o in stored}
    for mine in hub_orders(settings):
        if mine.uuid in expected:
            assert mine.sync == OrderSync("synced", odoo_ids[mine.uuid], None), mine.uuid
        else:
            assert mine.sync.state == "local"
    with connect(settings) as db:
        in_flight = db.execute("SELECT COUNT(*) FROM sync_outbox WHERE in_flight = 1").fetchone()
    assert in_flight == (0,)


def _money(value: float) -> Decimal:
    return MONEY.from_minor(MONEY.to_minor(Decimal(repr(value))))
