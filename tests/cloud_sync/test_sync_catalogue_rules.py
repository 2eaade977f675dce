"""What Odoo keeps where, and what the pull must do about it (issue 11, points 2, 3 and 5).

Each test changes the emulator the way head office would (the product form
saves the template; 18+ compute ``price_include`` from the company; a POS
configuration lists its payment methods) and checks what reaches the hub.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from hub import events
from hub.cache import Cache
from hub.catalog.gateway import CatalogGateway
from hub.catalog.upkeep import CacheUpkeep
from hub.db.store import Store
from tests.cloud_sync.hub_side import MONEY, AgentRun, Till, connect, connected_agent, sync_settings
from tests.odoo_emulator import OdooEmulator
from tests.support.redis_server import drop_keys

pytestmark = pytest.mark.anyio

SHARED_REDIS = "redis://127.0.0.1:6379/0"
PULL_INTERVAL = 0.5  # seconds: a price changed at head office is on the hub within one


def till_products(settings: Any) -> list[int]:
    """The Odoo ids of the products the hub holds."""
    with connect(settings) as db:
        rows = db.execute("SELECT remote_id FROM products WHERE remote_id IS NOT NULL")
        return [r[0] for r in rows.fetchall()]


def hub_product(settings: Any, remote_id: int) -> dict[str, Any]:
    with connect(settings) as db:
        cursor = db.execute(
            "SELECT p.id, p.name, p.price, p.sale_ok, p.active, c.remote_id, "
            "(SELECT group_concat(t.remote_id) FROM product_taxes pt JOIN taxes t "
            " ON t.id = pt.tax_id WHERE pt.product_id = p.id) "
            "FROM products p LEFT JOIN categories c ON c.id = p.category_id WHERE p.remote_id = ?",
            (remote_id,),
        )
        keys = ("id", "name", "price", "sale_ok", "active", "category", "taxes")
        return dict(zip(keys, cursor.fetchone(), strict=True))


def add_product(odoo: OdooEmulator, code: str) -> int:
    """A new product 10 minutes on: once pulled, the products' watermark is past the seeded
    ones, so a pull no longer re-reads them in its overlap (where a miss would hide)."""
    odoo.advance_clock(minutes=10)
    return odoo.create(
        "product.product",
        {"name": code.title(), "default_code": code, "lst_price": 1.0, "available_in_pos": True},
    )


async def test_a_template_price_reaches_the_hub_its_cache_and_the_next_order(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Must-show: head office reprices Fries in the product form (the template); within one
    pull interval the hub's product and its cache have the new price, and the next order a
    till rings up is at that price."""
    seed = odoo_emulator.seed
    assert seed is not None
    store_code = "t" + uuid.uuid4().hex[:12]
    settings = sync_settings(
        tmp_path,
        odoo_emulator,
        sync_pull_interval_seconds=PULL_INTERVAL,
        store=store_code,
        redis_url=SHARED_REDIS,
    )
    store = Store(settings)
    store.start()
    cache = Cache(settings)
    await cache.start()
    try:
        catalog = CatalogGateway(store, cache, MONEY)
        upkeep = CacheUpkeep(settings, store, cache, catalog)
        async with AgentRun(settings) as run:
            await run.pulled()
            fries = {
                **hub_product(settings, seed.products["FRIES"]),
                "remote": seed.products["FRIES"],
            }
            upkeep.cursor = await store.read(events.head)
            assert (await catalog.product(fries["id"])).price == "3.50"  # type: ignore[union-attr]

            tea = add_product(odoo_emulator, "TEA")
            await run.until(lambda: tea in till_products(settings))
            odoo_emulator.advance_clock(minutes=1)
            odoo_emulator.write("product.template", [seed.templates["FRIES"]], {"list_price": 3.9})
            (variant,) = odoo_emulator.records("product.product", [("id", "=", fries["remote"])])
            (template,) = odoo_emulator.records(
                "product.template", [("id", "=", variant["product_tmpl_id"])]
            )
            assert variant["write_date"] < template["write_date"]  # the form leaves the variant be

            # Within one pull interval, and a pull that was under way.
            await run.until(
                lambda: hub_product(settings, seed.products["FRIES"])["price"] == 390,
                within=2.5 * PULL_INTERVAL,
            )
            await upkeep.tail()
            cached = await catalog.product(fries["id"])
            assert cached is not None and cached.price == "3.90"

            till = Till(settings)
            (order,) = till.sell(1, {fries["id"]: "2"})
        assert order.lines[0].price_unit == "3.90"
        with connect(settings) as db:
            (data,) = db.execute(
                "SELECT data FROM events WHERE event = 'order.created' ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        assert json.loads(data)["lines"][0]["price_unit"] == "3.90"
    finally:
        await cache.close()
        store.close()
        drop_keys(SHARED_REDIS, store_code)


async def test_every_field_the_product_form_saves_reaches_the_hub(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """Name, taxes, POS category, available_in_pos and sale_ok live on the template too."""
    seed = odoo_emulator.seed
    assert seed is not None
    settings = sync_settings(tmp_path, odoo_emulator)
    category = "pos_categ_id" if odoo_emulator.version <= 16 else "pos_categ_ids"
    drinks: Any = seed.categories["drinks"]
    async with connected_agent(settings) as agent:
        await agent.pull()
        add_product(odoo_emulator, "TEA")
        await agent.pull()
        odoo_emulator.advance_clock(minutes=1)
        odoo_emulator.write(
            "product.template",
            [seed.templates["BURGER"]],
            {
                "name": "Cheeseburger",
                "taxes_id": [[6, 0, [seed.taxes["incl10"]]]],
                category: drinks if odoo_emulator.version <= 16 else [drinks],
            },
        )
        odoo_emulator.write("product.template", [seed.templates["COLA"]], {"sale_ok": False})
        odoo_emulator.write(
            "product.template", [seed.templates["WATER"]], {"available_in_pos": False}
        )
        changed = await agent.pull()
        assert len(changed["products"]) == 3
        assert await agent.pull() == {}  # the watermark passed the templates' write_date
    burger = hub_product(settings, seed.products["BURGER"])
    assert (burger["name"], burger["category"]) == ("Cheeseburger", drinks)
    assert burger["taxes"] == str(seed.taxes["incl10"])
    assert hub_product(settings, seed.products["COLA"])["sale_ok"] == 0
    assert hub_product(settings, seed.products["WATER"])["sale_ok"] == 0


@pytest.mark.parametrize("version", [18, 19])
async def test_the_company_price_include_setting_reaches_the_hub_at_the_reconcile(
    tmp_path: Path, version: int
) -> None:
    """18+ compute price_include from the company; no tax's write_date moves when it changes."""
    with OdooEmulator(version) as odoo:
        seed = odoo.seed
        assert seed is not None
        settings = sync_settings(tmp_path, odoo)
        async with connected_agent(settings) as agent:
            await agent.pull()
            odoo.advance_clock(minutes=10)
            odoo.create(
                "account.tax",
                {"name": "5%", "amount": 5.0, "price_include_override": "tax_excluded"},
            )
            await agent.pull()  # the taxes' watermark is now 10 minutes past the seeded ones
            odoo.write("res.company", [1], {"account_price_include": "tax_included"})
            assert await agent.pull(reconcile=False) == {}  # nothing stamped: invisible
            changed = await agent.pull(reconcile=True)
        assert changed["taxes"]
        with connect(settings) as db:
            included = db.execute(
                "SELECT price_include FROM taxes WHERE remote_id = ?", (seed.taxes["vat15"],)
            ).fetchone()
        assert included == (1,)


async def test_a_tax_the_hub_cannot_compute_is_caught_at_pull_time(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """A group tax (or include_base_amount) makes Odoo's total differ from the hub's:
    the products carrying it are not for sale at the hub, rather than parked order by order."""
    seed = odoo_emulator.seed
    assert seed is not None
    settings = sync_settings(tmp_path, odoo_emulator)
    async with connected_agent(settings) as agent:
        await agent.pull()
        odoo_emulator.advance_clock(minutes=10)
        with odoo_emulator.db.transaction():
            env = odoo_emulator.env()
            city = env.create("account.tax", {"name": "City 2%", "amount": 2.0})
            group = env.create(
                "account.tax",
                {
                    "name": "VAT + city",
                    "amount_type": "group",
                    "children_tax_ids": [[6, 0, [seed.taxes["vat15"], city]]],
                },
            )
            env.write(
                "product.template", [seed.templates["BURGER"]], {"taxes_id": [[6, 0, [group]]]}
            )
            env.write("account.tax", [seed.taxes["incl10"]], {"include_base_amount": True})
        await agent.pull()
    assert hub_product(settings, seed.products["BURGER"])["sale_ok"] == 0
    # The products of a tax that became unreproducible are re-read and withdrawn too.
    assert hub_product(settings, seed.products["COLA"])["sale_ok"] == 0
    assert hub_product(settings, seed.products["FRIES"])["sale_ok"] == 1


async def test_only_the_pos_configs_payment_methods_can_be_tendered(
    tmp_path: Path, odoo_emulator: OdooEmulator
) -> None:
    """pos.payment refuses a method not on the session's config: the hub must refuse it first."""
    seed = odoo_emulator.seed
    assert seed is not None
    voucher = odoo_emulator.create("pos.payment.method", {"name": "Voucher"})
    settings = sync_settings(tmp_path, odoo_emulator)
    async with connected_agent(settings) as agent:
        await agent.pull()
        with connect(settings) as db:
            methods = dict(db.execute("SELECT name, active FROM payment_methods").fetchall())
        assert methods.get("Voucher", 0) == 0
        assert methods["Cash"] == methods["Card"] == 1
        # Head office takes Card off the till's configuration: the next pull sees it.
        odoo_emulator.write(
            "pos.config",
            [seed.config_id],
            {"payment_method_ids": [[6, 0, [seed.cash_id, voucher]]]},
        )
        await agent.pull()
    with connect(settings) as db:
        methods = dict(db.execute("SELECT name, active FROM payment_methods").fetchall())
    assert methods == {"Cash": 1, "Card": 0, "Voucher": 1}
    till = Till(settings)
    products = till.products()
    with pytest.raises(Exception, match="unknown or inactive"):
        till.sell(1, {products["FRIES"]: "1"}, method="Card")
