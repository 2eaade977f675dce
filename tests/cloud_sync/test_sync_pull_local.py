"""The pull and the products a manager made on the hub: Odoo never takes them over."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.catalog import management
from hub.catalog.edits import ProductInput
from hub.db.connection import immediate
from hub.orders.money import Money
from tests.cloud_sync.hub_side import connect, connected_agent, sync_settings
from tests.odoo_emulator import OdooEmulator

pytestmark = pytest.mark.anyio
SHARED = "2990000000017"


async def test_a_local_product_keeps_its_barcode_and_values_through_a_pull(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Odoo sells a product with the barcode of one the store made itself: the store's stays
    its own (not adopted, not overwritten), and Odoo's arrives without that barcode."""
    settings = sync_settings(tmp_path, odoo_emulator)
    seed = odoo_emulator.seed
    assert seed is not None
    odoo_emulator.write("product.product", [seed.products["FRIES"]], {"barcode": SHARED})
    with connect(settings) as db, immediate(db):
        local = management.create_product(
            db, Money(), ProductInput("House Fries", 420, barcode=SHARED), odoo=True
        ).product
    assert local is not None
    async with connected_agent(settings) as agent:
        await agent.pull()
    with connect(settings) as db:
        mine = db.execute(
            "SELECT name, price, barcode, remote_id, local_only FROM products WHERE id = ?",
            (local.id,),
        ).fetchone()
        theirs = db.execute(
            "SELECT id, barcode FROM products WHERE remote_id = ?", (seed.products["FRIES"],)
        ).fetchone()
    assert mine == ("House Fries", 420, SHARED, None, 1)
    assert theirs is not None and theirs[0] != local.id and theirs[1] is None
