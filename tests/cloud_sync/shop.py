"""The hub side of the tests: a small catalogue with hub ids, and finished orders built on it.

Orders have the shape API.md gives (decimal strings, hub ids), with totals
computed here the way the hub computes them, so a payload built from them is
what the sync agent will send. ``refs_for`` maps these hub ids to the ids the
emulator's seeded shop has.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cloud_sync.payloads import RemoteRefs
from tests.odoo_emulator import OdooEmulator

CENT = Decimal("0.01")
HUB_SESSION = 7
CASH, CARD = 1, 2
VAT15, INCL10 = 11, 12


@dataclass(frozen=True)
class Product:
    hub_id: int
    code: str
    name: str
    price: Decimal
    tax: int


CATALOGUE = {
    p.code: p
    for p in (
        Product(101, "BURGER", "Burger", Decimal("10.00"), VAT15),
        Product(102, "FRIES", "Fries", Decimal("3.50"), VAT15),
        Product(103, "COLA", "Cola", Decimal("2.50"), INCL10),
        Product(104, "WATER", "Water", Decimal("1.50"), INCL10),
    )
}


def refs_for(emulator: OdooEmulator, **overrides: Any) -> RemoteRefs:
    """The id map the sync agent would hold for the emulator's seeded shop."""
    seed = emulator.seed
    assert seed is not None
    values: dict[str, Any] = {
        "user_id": seed.uid,
        "sessions": {HUB_SESSION: seed.session_id},
        "products": {p.hub_id: seed.products[p.code] for p in CATALOGUE.values()},
        "payment_methods": {CASH: seed.cash_id, CARD: seed.card_id},
        "taxes": {VAT15: seed.taxes["vat15"], INCL10: seed.taxes["incl10"]},
        "product_taxes": {p.hub_id: [p.tax] for p in CATALOGUE.values()},
        "pricelist_id": seed.pricelist_id,
    }
    values.update(overrides)
    return RemoteRefs(**values)


def _line(line_id: int, product: Product, qty: Decimal) -> dict[str, Any]:
    gross = (product.price * qty).quantize(CENT, ROUND_HALF_UP)
    if product.tax == VAT15:
        untaxed = gross
        tax = (gross * Decimal("0.15")).quantize(CENT, ROUND_HALF_UP)
    else:
        untaxed = (gross / Decimal("1.10")).quantize(CENT, ROUND_HALF_UP)
        tax = gross - untaxed
    return {
        "id": line_id,
        "product_id": product.hub_id,
        "name": product.name,
        "qty": str(qty),
        "price_unit": str(product.price),
        "discount": "0",
        "tax_amount": str(tax),
        "subtotal": str(untaxed),
        "subtotal_incl": str(untaxed + tax),
        "station": None,
        "note": "",
    }


def hub_order(
    number: int,
    items: dict[str, int],
    *,
    tendered: dict[int, str] | None = None,
    created_at: str = "2024-05-02T10:15:30.000Z",
) -> dict[str, Any]:
    """A paid hub order of ``items`` (code → quantity); by default paid exactly by card."""
    lines = [
        _line(number * 100 + i, CATALOGUE[code], Decimal(qty))
        for i, (code, qty) in enumerate(items.items())
    ]
    untaxed = sum((Decimal(line["subtotal"]) for line in lines), Decimal(0))
    tax = sum((Decimal(line["tax_amount"]) for line in lines), Decimal(0))
    total = untaxed + tax
    tendered = tendered or {CARD: str(total)}
    paid = sum((Decimal(amount) for amount in tendered.values()), Decimal(0))
    return {
        "id": number,
        "uuid": str(uuid.uuid4()),
        "name": f"demo/{number:04d}",
        "number": number,
        "session_id": HUB_SESSION,
        "state": "done",
        "lines": lines,
        "amount_untaxed": str(untaxed),
        "amount_tax": str(tax),
        "amount_total": str(total),
        "amount_paid": str(paid),
        "change": str(paid - total),
        "payments": [
            {"method_id": method, "amount": amount, "reference": ""}
            for method, amount in tendered.items()
        ],
        "created_at": created_at,
        "updated_at": created_at,
    }
