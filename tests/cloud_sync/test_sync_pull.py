"""The catalogue pull against Odoo 16-19 over HTTP: first pull, changes, archives, deletions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub import events
from hub.catalog.upkeep import touched_since
from tests.cloud_sync.hub_side import Till, connect, connected_agent, sync_settings
from tests.odoo_emulator import OdooEmulator

pytestmark = pytest.mark.anyio


def products(settings: Any) -> dict[int, dict[str, Any]]:
    """Hub products linked to Odoo, by Odoo id."""
    with connect(settings) as db:
        cursor = db.execute(
            "SELECT p.remote_id, p.name, p.price, p.active, p.sale_ok, p.barcode, c.name, "
            "(SELECT group_concat(t.remote_id) FROM product_taxes pt JOIN taxes t "
            " ON t.id = pt.tax_id WHERE pt.product_id = p.id) "
            "FROM products p LEFT JOIN categories c ON c.id = p.category_id "
            "WHERE p.remote_id IS NOT NULL"
        )
        keys = ("name", "price", "active", "sale_ok", "barcode", "category", "taxes")
        return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in cursor.fetchall()}


def catalog_events(settings: Any) -> list[dict[str, Any]]:
    with connect(settings) as db:
        rows = db.execute("SELECT data FROM events WHERE event = 'catalog.updated' ORDER BY seq")
        return [json.loads(r[0]) for r in rows.fetchall()]


async def test_first_pull_brings_odoos_catalogue(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Without the pulled ids no order can be pushed: products, taxes, categories, methods."""
    settings = sync_settings(tmp_path, odoo_emulator)
    seed = odoo_emulator.seed
    assert seed is not None
    async with connected_agent(settings) as agent:
        changed = await agent.pull()
    pulled = products(settings)
    assert set(pulled) == set(seed.products.values())
    fries = pulled[seed.products["FRIES"]]
    assert (fries["name"], fries["price"], fries["category"]) == ("Fries", 350, "Food")
    assert fries["taxes"] == str(seed.taxes["vat15"])
    with connect(settings) as db:
        methods = dict(db.execute("SELECT name, remote_id FROM payment_methods").fetchall())
        taxes = db.execute(
            "SELECT amount, price_include FROM taxes WHERE remote_id = ?", (seed.taxes["incl10"],)
        ).fetchone()
    # The demo store's own Cash and Card are adopted, not duplicated.
    assert methods == {"Cash": seed.cash_id, "Card": seed.card_id}
    assert taxes == ("10", 1)
    kinds = {e["kind"] for e in catalog_events(settings)}
    assert kinds == {"categories", "taxes", "payment_methods", "products"}
    assert set(changed) == kinds


async def test_incremental_pull_sees_a_price_change_and_an_archive(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Head office reprices and retires products: the till sells at the new price, or not at all."""
    settings = sync_settings(tmp_path, odoo_emulator)
    seed = odoo_emulator.seed
    assert seed is not None
    async with connected_agent(settings) as agent:
        await agent.pull()
        before = len(catalog_events(settings))
        odoo_emulator.advance_clock(minutes=10)
        odoo_emulator.write("product.product", [seed.products["FRIES"]], {"lst_price": 3.9})
        odoo_emulator.write("product.product", [seed.products["WATER"]], {"active": False})
        changed = await agent.pull()
    pulled = products(settings)
    assert pulled[seed.products["FRIES"]]["price"] == 390
    assert pulled[seed.products["WATER"]]["active"] == 0
    assert pulled[seed.products["COLA"]]["active"] == 1
    assert changed == {"products": sorted(changed["products"])}
    assert len(changed["products"]) == 2
    new_events = catalog_events(settings)[before:]
    assert [e["kind"] for e in new_events] == ["products"]


async def test_reconciliation_archives_what_odoo_deleted(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """A deletion leaves no write_date behind: only comparing ids finds it."""
    settings = sync_settings(tmp_path, odoo_emulator)
    seed = odoo_emulator.seed
    assert seed is not None
    async with connected_agent(settings) as agent:
        await agent.pull()
        with odoo_emulator.db.transaction():
            odoo_emulator.env().unlink("product.product", [seed.products["BURGER"]])
        assert await agent.pull(reconcile=False) == {}
        changed = await agent.pull(reconcile=True)
    assert products(settings)[seed.products["BURGER"]]["active"] == 0
    assert len(changed["products"]) == 1


async def test_a_pull_applied_twice_changes_nothing(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """The watermark overlap re-reads recent rows; re-applying them must not announce changes."""
    settings = sync_settings(tmp_path, odoo_emulator)
    async with connected_agent(settings) as agent:
        await agent.pull()
        before = len(catalog_events(settings))
        assert await agent.pull() == {}
    assert len(catalog_events(settings)) == before


async def test_pulled_changes_reach_the_open_tills(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Taxes and payment methods come only from head office: tills must hear of them too."""
    settings = sync_settings(tmp_path, odoo_emulator)
    till = Till(settings)
    async with connected_agent(settings) as agent:
        await agent.pull()
    with connect(settings) as db:
        rows = db.execute(
            "SELECT json_extract(data, '$.kind'), rooms FROM events "
            "WHERE event = 'catalog.updated' AND json_extract(data, '$.source') = 'odoo'"
        ).fetchall()
    assert {kind for kind, _ in rows} == {"categories", "taxes", "payment_methods", "products"}
    assert {rooms for _, rooms in rows} == {f"store session:{till.session_id}"}


async def test_a_pulled_change_makes_the_hubs_caches_forget(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """A price head office changed must not be served from a hub's cache for 15 minutes:
    the cache upkeep of every worker reads the pull's events as it reads the hub's own."""
    settings = sync_settings(tmp_path, odoo_emulator)
    seed = odoo_emulator.seed
    assert seed is not None
    async with connected_agent(settings) as agent:
        await agent.pull()
        with connect(settings) as db:
            before = events.head(db)
        odoo_emulator.advance_clock(minutes=10)
        odoo_emulator.write("product.product", [seed.products["FRIES"]], {"lst_price": 3.9})
        odoo_emulator.write("pos.category", [seed.categories["food"]], {"name": "Meals"})
        await agent.pull()
    with connect(settings) as db:
        _, touched, more = touched_since(db, before)
        rows = db.execute(
            "SELECT data FROM events WHERE seq > ? AND event = 'catalog.updated'", (before,)
        ).fetchall()
    assert touched.all_products and touched.categories and touched.listings and not more
    # A till reads the same keys: a pulled product may have been renamed or archived.
    assert all(json.loads(data)["listings"] for (data,) in rows)
