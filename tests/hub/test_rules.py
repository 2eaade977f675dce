"""Every business rule refuses with 422, names itself, carries its facts, and changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api_client import Api
from tests.support.hub_process import HubProcess

BURGER, MUG = 1, 30  # the demo mug is stock-tracked with 4 on hand


def _db(hub: HubProcess) -> sqlite3.Connection:
    return sqlite3.connect(hub.db, isolation_level=None)


@pytest.fixture
def session(module_api: Api) -> int:
    return module_api.open_session()


def _snapshot(hub: HubProcess) -> tuple[Any, ...]:
    with _db(hub) as conn:
        return tuple(
            conn.execute(sql).fetchall()
            for sql in (
                "SELECT MAX(seq) FROM events",
                "SELECT id, state, amount_total, amount_paid, updated_at FROM orders",
                "SELECT COUNT(*) FROM payments",
                "SELECT product_id, qty_available FROM stock",
                "SELECT COUNT(*) FROM order_history",
            )
        )


@pytest.fixture
def unchanged(module_hub: HubProcess) -> Iterator[None]:
    """Asserts that the test's failing request left the database as it was."""
    before = _snapshot(module_hub)
    yield
    assert _snapshot(module_hub) == before


def _rule(r: Any, rule: str) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "rule_failed"
    assert body["detail"]["rule"] == rule
    return dict(body["detail"])


def test_lines_present(module_api: Api, session: int) -> None:
    """An empty order cannot be validated."""
    order = module_api.create(session, [])
    _rule(module_api.fire(order["id"], "validate"), "lines_present")


def test_product_known(module_api: Api, session: int, unchanged: None) -> None:
    """An unknown product id is refused with its line and id."""
    r = module_api.post(
        "/api/v1/orders", module_api.order_body(session, [{"product_id": 99999, "qty": "1"}])
    )
    detail = _rule(r, "product_known")
    assert detail["product_id"] == 99999
    assert detail["line"] == 1


def test_product_active(module_api: Api, module_hub: HubProcess, session: int) -> None:
    """A product archived after the order was taken stops its validation."""
    order = module_api.create(session, [{"product_id": 5, "qty": "1"}])
    with _db(module_hub) as conn:
        conn.execute("UPDATE products SET active = 0 WHERE id = 5")
    try:
        detail = _rule(module_api.fire(order["id"], "validate"), "product_active")
        assert detail["product_id"] == 5
    finally:
        with _db(module_hub) as conn:
            conn.execute("UPDATE products SET active = 1 WHERE id = 5")


def test_product_sellable(module_api: Api, module_hub: HubProcess, session: int) -> None:
    """A product marked not for sale cannot be validated."""
    order = module_api.create(session, [{"product_id": 6, "qty": "1"}])
    with _db(module_hub) as conn:
        conn.execute("UPDATE products SET sale_ok = 0 WHERE id = 6")
    try:
        _rule(module_api.fire(order["id"], "validate"), "product_sellable")
    finally:
        with _db(module_hub) as conn:
            conn.execute("UPDATE products SET sale_ok = 1 WHERE id = 6")


def test_price_override_needs_a_manager(module_api: Api, session: int) -> None:
    """A cashier's own price is refused until a manager approves it."""
    order = module_api.create(session, [{"product_id": BURGER, "qty": "1", "price_unit": "8.00"}])
    detail = _rule(module_api.fire(order["id"], "validate"), "price_override_unapproved")
    assert detail["catalogue_price"] == "9.50"
    assert detail["price_unit"] == "8.00"


def test_price_override_with_manager_approval(module_api: Api, session: int) -> None:
    """A manager's PIN on the till approves an override within the limit."""
    body = module_api.order_body(
        session, [{"product_id": BURGER, "qty": "1", "price_unit": "8.00"}]
    )
    body["approval"] = {"login": "marco", "pin": "9999"}
    r = module_api.post("/api/v1/orders", body)
    assert r.status_code == 201, r.text
    validated = module_api.fire(r.json()["id"], "validate")
    assert validated.status_code == 200, validated.text
    assert validated.json()["amount_total"] == "8.00"


def test_approval_by_a_cashier_is_refused(module_api: Api, session: int, unchanged: None) -> None:
    """Only a manager's credentials approve an override."""
    body = module_api.order_body(session, [{"product_id": BURGER, "qty": "1", "discount": "5"}])
    body["approval"] = {"login": "ana", "pin": "1234"}
    assert module_api.post("/api/v1/orders", body).status_code == 403


def test_discount_limit(module_api: Api, session: int) -> None:
    """Even a manager cannot discount past the configured limit (30%)."""
    order = module_api.create(session, [])
    r = module_api.patch(
        f"/api/v1/orders/{order['id']}",
        {"lines": [{"product_id": BURGER, "qty": "1", "discount": "50"}]},
        as_="marco",
    )
    assert r.status_code == 200, r.text
    detail = _rule(module_api.fire(order["id"], "validate"), "discount_limit")
    assert detail["limit_pct"] == "30"
    assert detail["reduction_pct"] == "50.00"


def test_stock_available(module_api: Api, session: int) -> None:
    """Selling more of a stock-tracked item than is on hand is refused with the numbers."""
    order = module_api.create(
        session, [{"product_id": MUG, "qty": "3"}, {"product_id": MUG, "qty": "2"}]
    )
    detail = _rule(module_api.fire(order["id"], "validate"), "stock_available")
    assert (detail["requested"], detail["available"]) == ("5", "4")


def test_stock_is_checked_again_at_payment(module_api: Api, session: int) -> None:
    """Two validated orders for the last mugs: the second to pay is refused."""
    first = module_api.create(session, [{"product_id": MUG, "qty": "3"}])
    second = module_api.create(session, [{"product_id": MUG, "qty": "3"}])
    for order in (first, second):
        assert module_api.fire(order["id"], "validate").status_code == 200
    assert (
        module_api.pay_exact(module_api.get(f"/api/v1/orders/{first['id']}").json()).status_code
        == 200
    )
    r = module_api.pay_exact(module_api.get(f"/api/v1/orders/{second['id']}").json())
    _rule(r, "stock_available")
    module_api.fire(first["id"], "cancel", {"reason": "restock"}, as_="marco")


def _validated(api: Api, session: int) -> dict[str, Any]:
    order = api.create(session, [{"product_id": BURGER, "qty": "1"}])
    return dict(api.fire(order["id"], "validate").json())


def test_payments_present(module_api: Api, session: int) -> None:
    """Pay with no payment lines is refused."""
    order = _validated(module_api, session)
    _rule(module_api.fire(order["id"], "pay", {"payments": []}), "payments_present")


def test_payment_method_known(module_api: Api, session: int) -> None:
    """A payment with an unknown method is refused and names the method."""
    order = _validated(module_api, session)
    r = module_api.fire(order["id"], "pay", {"payments": [{"method_id": 77, "amount": "9.50"}]})
    assert _rule(r, "payment_method_known")["method_id"] == 77


def test_payments_cover_total(module_api: Api, session: int) -> None:
    """Underpayment is refused with what is missing."""
    order = _validated(module_api, session)
    r = module_api.fire(order["id"], "pay", {"payments": [{"method_id": 1, "amount": "5.00"}]})
    detail = _rule(r, "payments_cover_total")
    assert detail["missing"] == "4.50"


def test_change_only_from_cash(module_api: Api, session: int) -> None:
    """A card cannot be overcharged to hand back cash."""
    order = _validated(module_api, session)
    r = module_api.fire(order["id"], "pay", {"payments": [{"method_id": 2, "amount": "20.00"}]})
    _rule(r, "change_from_cash")


def test_session_with_unpaid_orders_cannot_close(module_api: Api) -> None:
    """Closing a session that still holds a draft names the stranded orders."""
    session = module_api.open_session()
    order = module_api.create(session)
    r = module_api.post(f"/api/v1/sessions/{session}/close", {"closing_cash": "100.00"})
    assert _rule(r, "session_has_unpaid_orders")["order_ids"] == [order["id"]]
    assert module_api.get(f"/api/v1/sessions/{session}").json()["state"] == "open"
