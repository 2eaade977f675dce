"""The whole order lifecycle over real HTTP, and every way an order can be cancelled."""

from __future__ import annotations

from decimal import Decimal

from tests.support.api_client import Api

BURGER, ESPRESSO, HOT_SAUCE = 1, 10, 29


def test_order_runs_from_draft_to_invoiced(api: Api) -> None:
    """A kitchen order passes every state, and its history records each step and actor."""
    session = api.open_session()
    order = api.create(
        session, [{"product_id": BURGER, "qty": "2"}, {"product_id": ESPRESSO, "qty": "1"}]
    )
    assert order["state"] == "draft"
    oid = order["id"]
    assert api.fire(oid, "validate").json()["state"] == "validated"
    paid = api.fire(oid, "pay", {"payments": [{"method_id": 1, "amount": "30.00"}]}).json()
    assert paid["state"] == "paid"
    assert paid["change"] == str(Decimal("30.00") - Decimal(paid["amount_total"]))
    assert paid["kitchen_status"] == "queued"
    assert api.fire(oid, "start", as_="kitchen").json()["state"] == "preparing"
    assert api.fire(oid, "ready", as_="kitchen").json()["state"] == "ready"
    assert api.fire(oid, "complete").json()["state"] == "done"
    final = api.fire(oid, "invoice").json()
    assert final["state"] == "invoiced"
    steps = [(h["from"], h["to"], h["event"]) for h in final["state_history"]]
    assert steps == [
        (None, "draft", "create"),
        ("draft", "validated", "validate"),
        ("validated", "paid", "pay"),
        ("paid", "preparing", "start"),
        ("preparing", "ready", "ready"),
        ("ready", "done", "complete"),
        ("done", "invoiced", "invoice"),
    ]
    assert all(h["by"] is not None and h["at"] for h in final["state_history"])


def test_retail_order_completes_straight_from_paid(api: Api) -> None:
    """An order with no kitchen items skips the kitchen: paid -> done."""
    session = api.open_session()
    order = api.create(session, [{"product_id": 32, "qty": "1"}])  # gift card, no station
    api.fire(order["id"], "validate")
    assert api.pay_exact(api.get(f"/api/v1/orders/{order['id']}").json()).status_code == 200
    r = api.fire(order["id"], "start")
    assert r.status_code == 409
    assert api.fire(order["id"], "complete").json()["state"] == "done"


def test_cancel_before_payment_needs_no_refund(api: Api) -> None:
    """Cancelling a draft or validated order writes no payment rows."""
    session = api.open_session()
    draft = api.create(session)
    validated = api.create(session)
    api.fire(validated["id"], "validate")
    for order in (draft, validated):
        r = api.fire(order["id"], "cancel", {"reason": "customer left"})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "cancelled"
        assert r.json()["payments"] == []
        assert r.json()["state_history"][-1]["reason"] == "customer left"


def _paid(api: Api, session: int, lines: list[dict[str, str | int]]) -> dict:
    order = api.create(session, lines)
    validated = api.fire(order["id"], "validate").json()
    r = api.fire(order["id"], "pay", {"payments": [{"method_id": 1, "amount": "50.00"}]})
    assert r.status_code == 200, r.text
    assert validated["amount_total"] == r.json()["amount_total"]
    return dict(r.json())


def test_cancel_after_payment_refunds_net_of_change(api: Api) -> None:
    """A paid order cancelled by a manager refunds what stayed in the drawer, not the change."""
    session = api.open_session()
    order = _paid(api, session, [{"product_id": BURGER, "qty": "1"}])
    r = api.fire(order["id"], "cancel", {"reason": "wrong order"}, as_="marco")
    assert r.status_code == 200, r.text
    refunds = [p for p in r.json()["payments"] if p["kind"] == "refund"]
    assert sum(Decimal(p["amount"]) for p in refunds) == -Decimal(order["amount_total"])
    events = api.get("/api/v1/events", as_="marco", params={"limit": 500}).json()
    names = [e["event"] for e in events["items"] if e["data"].get("uuid") == order["uuid"]]
    assert "payment.refunded" in names


def test_cancel_in_kitchen_states_refunds(api: Api) -> None:
    """Orders cancelled while preparing or ready are refunded too."""
    session = api.open_session()
    for stop_at in ("preparing", "ready"):
        order = _paid(api, session, [{"product_id": BURGER, "qty": "1"}])
        api.fire(order["id"], "start", as_="kitchen")
        if stop_at == "ready":
            api.fire(order["id"], "ready", as_="kitchen")
        r = api.fire(order["id"], "cancel", {"reason": "burnt"}, as_="marco")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "cancelled"
        assert r.json()["kitchen_status"] == "cancelled"
        assert any(p["kind"] == "refund" for p in r.json()["payments"])


def test_cancel_after_payment_restores_stock(api: Api) -> None:
    """Stock taken by a sale comes back when the sale is cancelled."""
    before = api.get(f"/api/v1/products/{HOT_SAUCE}").json()["qty_available"]
    session = api.open_session()
    order = _paid(api, session, [{"product_id": HOT_SAUCE, "qty": "2"}])
    during = api.get(f"/api/v1/products/{HOT_SAUCE}").json()["qty_available"]
    assert Decimal(during) == Decimal(before) - 2
    api.fire(order["id"], "cancel", {"reason": "return"}, as_="marco")
    after = api.get(f"/api/v1/products/{HOT_SAUCE}").json()["qty_available"]
    assert after == before


def test_cashier_cannot_refund(api: Api) -> None:
    """Cancelling a paid order moves money: a cashier is refused and nothing changes."""
    session = api.open_session()
    order = _paid(api, session, [{"product_id": BURGER, "qty": "1"}])
    r = api.fire(order["id"], "cancel", {"reason": "x"})
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    assert api.get(f"/api/v1/orders/{order['id']}").json()["state"] == "paid"


def test_patch_replaces_lines_only_in_draft(api: Api) -> None:
    """Lines can be edited while the order is a draft and never after."""
    session = api.open_session()
    order = api.create(session)
    r = api.patch(
        f"/api/v1/orders/{order['id']}", {"lines": [{"product_id": ESPRESSO, "qty": "3"}]}
    )
    assert r.status_code == 200, r.text
    assert [(ln["product_id"], ln["qty"]) for ln in r.json()["lines"]] == [(ESPRESSO, "3")]
    assert r.json()["amount_total"] == "6.60"
    api.fire(order["id"], "validate")
    r = api.patch(f"/api/v1/orders/{order['id']}", {"lines": [{"product_id": 1, "qty": "1"}]})
    assert r.status_code == 409
    assert r.json()["detail"]["state"] == "validated"


def test_closed_session_takes_no_orders(api: Api) -> None:
    """After closing, a session answers 409 to new orders."""
    session = api.open_session()
    r = api.post(f"/api/v1/sessions/{session}/close", {"closing_cash": "100.00"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "closed"
    r = api.post("/api/v1/orders", api.order_body(session))
    assert r.status_code == 409
    assert r.json()["error"] == "session_closed"


def test_list_orders_pages_with_cursor(api: Api) -> None:
    """Listing by session walks every order exactly once, newest first."""
    session = api.open_session()
    created = [api.create(session)["id"] for _ in range(5)]
    seen: list[int] = []
    after = None
    while True:
        params: dict[str, str | int] = {"session_id": session, "limit": 2}
        if after:
            params["after"] = after
        page = api.get("/api/v1/orders", params=params).json()
        seen += [o["id"] for o in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == sorted(created, reverse=True)
    drafts = api.get("/api/v1/orders", params={"session_id": session, "state": "paid"}).json()
    assert drafts["items"] == []
