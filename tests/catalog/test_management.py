"""A manager keeping the catalogue on the hub, over HTTP: products, categories, taxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.db.connection import immediate, open_db
from tests.conftest import demo_database, make_settings
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess

ODOO_URL = "http://127.0.0.1:9"  # configured, never dialled by ``serve``


def _hub(path: Path, **env: str) -> Iterator[Api]:
    hub = HubProcess(demo_database(path), **env).start()
    api = Api(hub.url)
    yield api
    api.close()
    hub.stop()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A hub of its own (these tests write), with no Odoo."""
    yield from _hub(tmp_path_factory.mktemp("manage") / "edgehub.db")


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Path]]:
    """A hub with an Odoo configured, whose Cappuccino came from that Odoo (remote id 77)."""
    path = tmp_path_factory.mktemp("linked") / "edgehub.db"
    demo_database(path)
    db = open_db(make_settings(path))
    with immediate(db):
        db.execute("UPDATE products SET remote_id = 77 WHERE name = 'Cappuccino'")
        db.execute("UPDATE taxes SET remote_id = 5 WHERE id = 1")
    db.close()
    for api in _hub(path, EDGEHUB_ODOO_URL=ODOO_URL):
        yield api, path


def test_a_manager_creates_a_product_tills_can_find_and_sell(api: Api) -> None:
    """A new product is found by search (and by a typo of it) and read back as it was sent."""
    body = {
        "name": "Tiramisu",
        "price": "6.50",
        "barcode": "2990000000017",
        "default_code": "DES-TIRA",
        "category_id": 4,
        "tax_ids": [1],
        "station": "cold",
        "stock_tracked": True,
        "qty_available": "12",
    }
    r = api.post("/api/v1/products", body, as_="marco")
    assert r.status_code == 201, r.text
    product = r.json()
    assert product["local_only"] is True and product["remote_id"] is None
    assert product["price"] == "6.50" and product["station"] == "cold"
    assert product["qty_available"] == "12"
    assert product["tax_ids"] == [1] and product["available"] is True
    assert api.get(f"/api/v1/products/{product['id']}").json() == product
    found = api.get("/api/v1/products", params={"q": "tiramisu"}).json()["items"]
    assert [p["id"] for p in found] == [product["id"]]


def test_a_manager_edits_any_field_and_the_next_read_sees_it(api: Api) -> None:
    """Name, price, station, taxes and availability change at once; what is left out stays."""
    before = api.get("/api/v1/products/3").json()
    r = api.patch(
        "/api/v1/products/3",
        {"name": "Jalapeño Burger XL", "price": "12.00", "station": "bar", "tax_ids": [1, 2]},
        as_="marco",
    )
    assert r.status_code == 200, r.text
    after = api.get("/api/v1/products/3").json()
    assert after["name"] == "Jalapeño Burger XL"
    assert after["price"] == "12.00" and after["station"] == "bar"
    assert after["tax_ids"] == [1, 2] and after["barcode"] == before["barcode"]
    off = api.patch("/api/v1/products/3", {"available": False}, as_="marco").json()
    assert off["available"] is False


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"price": "1.00"}, 422, "validation_error"),  # no name
        ({"name": "X", "price": "-1"}, 422, "validation_error"),
        ({"name": "X", "price": 1.5}, 422, "validation_error"),
        ({"name": "X", "price": "1", "category_id": 999}, 422, "validation_error"),
        ({"name": "X", "price": "1", "tax_ids": [999]}, 422, "validation_error"),
        ({"name": "X", "price": "1", "barcode": "2000000000039"}, 409, "barcode_conflict"),
        ({"name": "X", "price": "1", "colour": "red"}, 422, "validation_error"),
        ({"name": "\u0007", "price": "1"}, 422, "validation_error"),
        # A station is the name devices register to: one that none can be is refused.
        ({"name": "X", "price": "1", "station": "Hot Line"}, 422, "validation_error"),
    ],
)
def test_bad_products_are_refused_and_change_nothing(
    api: Api, body: dict[str, object], status: int, code: str
) -> None:
    """What the pull would refuse, or a clash, is answered in the error shape; nothing is added."""
    every = {"available": "any", "limit": 500}
    count = len(api.get("/api/v1/products", params=every).json()["items"])
    r = api.post("/api/v1/products", body, as_="marco")
    assert (r.status_code, r.json()["error"]) == (status, code), r.text
    assert len(api.get("/api/v1/products", params=every).json()["items"]) == count


def test_cashiers_cannot_manage_the_catalogue(api: Api) -> None:
    """Creating or editing products, categories and taxes is a manager's: 403 for a cashier."""
    assert api.post("/api/v1/products", {"name": "X", "price": "1"}).status_code == 403
    assert api.patch("/api/v1/products/1", {"price": "1.00"}).status_code == 403
    assert api.post("/api/v1/categories", {"name": "X"}).status_code == 403
    assert api.post("/api/v1/taxes", {"name": "X", "amount": "5"}).status_code == 403


def test_ids_past_what_sqlite_holds_are_a_422(api: Api) -> None:
    """A path id of 30 digits is the client's error, named, not a database failure."""
    for path in ("/api/v1/products/", "/api/v1/categories/", "/api/v1/taxes/"):
        r = api.patch(path + "9" * 30, {"name": "X"}, as_="marco")
        assert r.status_code in (404, 422), (path, r.text)
        assert r.json()["error"] in ("validation_error", "not_found")


def test_categories_and_taxes_are_created_and_edited(api: Api) -> None:
    """A new category and tax can be given to a product; names stay unique."""
    category = api.post("/api/v1/categories", {"name": "Pastries"}, as_="marco")
    assert category.status_code == 201, category.text
    cid = category.json()["id"]
    assert api.post("/api/v1/categories", {"name": "Pastries"}, as_="marco").status_code == 409
    renamed = api.patch(f"/api/v1/categories/{cid}", {"name": "Viennoiseries"}, as_="marco")
    assert renamed.json()["name"] == "Viennoiseries"
    assert "Viennoiseries" in [c["name"] for c in api.get("/api/v1/categories").json()["items"]]
    cycle = api.patch(f"/api/v1/categories/{cid}", {"parent_id": cid}, as_="marco")
    assert cycle.status_code == 422
    tax = api.post("/api/v1/taxes", {"name": "VAT 5.5%", "amount": "5.5"}, as_="marco")
    assert tax.status_code == 201, tax.text
    assert tax.json()["amount"] == "5.5" and tax.json()["price_include"] is False
    bad = api.post("/api/v1/taxes", {"name": "Too much", "amount": "150"}, as_="marco")
    assert bad.status_code == 422
    product = api.post(
        "/api/v1/products",
        {"name": "Croissant", "price": "1.80", "category_id": cid, "tax_ids": [tax.json()["id"]]},
        as_="marco",
    ).json()
    assert product["category_id"] == cid and product["tax_ids"] == [tax.json()["id"]]
    edited = api.patch(f"/api/v1/taxes/{tax.json()['id']}", {"amount": "10.0"}, as_="marco")
    assert edited.json()["amount"] == "10"
    taxes = api.get("/api/v1/taxes").json()["items"]
    assert {t["name"] for t in taxes} >= {"VAT 5.5%", "VAT 10% (incl.)"}


def test_odoo_products_are_refused_while_odoo_is_connected(linked: tuple[Api, Path]) -> None:
    """Head office is the source of truth: an Odoo product or tax is edited in Odoo, not here."""
    api, _ = linked
    cappuccino = next(
        p for p in api.get("/api/v1/products", params={"q": "cappuccino"}).json()["items"]
    )
    r = api.patch(f"/api/v1/products/{cappuccino['id']}", {"price": "9.99"}, as_="marco")
    assert r.status_code == 409 and r.json()["error"] == "odoo_owned"
    assert "Odoo" in r.json()["message"]
    assert api.get(f"/api/v1/products/{cappuccino['id']}").json()["price"] == cappuccino["price"]
    assert api.patch("/api/v1/taxes/1", {"amount": "11"}, as_="marco").status_code == 409
    # A product of the store's own is still the manager's to change.
    espresso = api.get("/api/v1/products", params={"q": "espresso"}).json()["items"][0]
    assert (
        api.patch(f"/api/v1/products/{espresso['id']}", {"price": "2.40"}, as_="marco").json()[
            "price"
        ]
        == "2.40"
    )
