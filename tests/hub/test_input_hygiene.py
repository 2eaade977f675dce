"""Malformed, hostile and oversized requests get a clear 4xx and change nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api_client import Api
from tests.support.hub_process import HubProcess


def _snapshot(hub: HubProcess) -> tuple[Any, ...]:
    with sqlite3.connect(hub.db) as conn:
        return (
            conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone(),
            conn.execute("SELECT COUNT(*) FROM orders").fetchone(),
            conn.execute("SELECT COUNT(*) FROM order_lines").fetchone(),
            conn.execute("SELECT COUNT(*) FROM payments").fetchone(),
            conn.execute("SELECT MAX(updated_at) FROM orders").fetchone(),
        )


@pytest.fixture
def unchanged(served_hub: HubProcess) -> Iterator[None]:
    before = _snapshot(served_hub)
    yield
    assert _snapshot(served_hub) == before


@pytest.fixture(scope="module")
def session(served_hub: HubProcess) -> int:
    client = Api(served_hub.url)
    sid = client.open_session()
    client.close()
    return sid


def test_malformed_json_is_400(api: Api, unchanged: None) -> None:
    """Bytes that are not JSON answer 400 bad_request in the error shape."""
    r = api.http.post(
        "/api/v1/orders",
        content=b'{"uuid": ',
        headers={**api.headers("ana"), "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"] == "bad_request"
    assert set(r.json()) == {"error", "message", "detail"}


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"product_id": "1", "qty": "1"}], "lines[0].product_id"),
        ([{"product_id": 1, "qty": 2}], "lines[0].qty"),
        ([{"product_id": 1, "qty": "-1"}], "lines[0].qty"),
        ([{"product_id": 1, "qty": "0"}], "lines[0].qty"),
        ([{"product_id": 1, "qty": "1e9"}], "lines[0].qty"),
        ([{"product_id": 1, "qty": "999999"}], "lines[0].qty"),
        ([{"product_id": 1, "qty": "NaN"}], "lines[0].qty"),
        ([{"product_id": 1, "qty": "1.0001"}], "lines[0].qty"),
        ([{"product_id": 0, "qty": "1"}], "lines[0].product_id"),
        ([{"product_id": 2**63, "qty": "1"}], "lines[0].product_id"),
        ([{"product_id": 1, "qty": "1", "discount": "101"}], "lines[0].discount"),
        ([{"product_id": 1, "qty": "1", "price_unit": "4.505"}], "lines[0].price_unit"),
        ([{"product_id": 1, "qty": "1", "evil": True}], "lines[0]"),
        ([{"product_id": 1, "qty": "1"}] * 201, "lines"),
    ],
)
def test_wrong_types_and_absurd_values_are_422(
    api: Api, session: int, unchanged: None, lines: list[Any], field: str
) -> None:
    """Each bad field is named in detail.fields, and no row is written."""
    r = api.post("/api/v1/orders", api.order_body(session, lines))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation_error"
    assert any(k.startswith(field) for k in body["detail"]["fields"]), body


@pytest.mark.parametrize(
    "body",
    [
        [],
        "order",
        None,
        {"uuid": "not-a-uuid", "session_id": 1, "lines": []},
        {"session_id": 1, "lines": []},
        {"uuid": "7f0e3c2a-1111-4222-8333-944445555666", "session_id": "1", "lines": []},
    ],
)
def test_bodies_of_the_wrong_shape_are_refused(api: Api, unchanged: None, body: Any) -> None:
    """Arrays, strings, nulls and missing fields answer 4xx, never 500."""
    r = api.http.post("/api/v1/orders", json=body, headers=api.headers("ana"))
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"] in ("bad_request", "validation_error")


def test_unknown_session_is_422(api: Api, unchanged: None) -> None:
    """An order for a session that does not exist names the field."""
    r = api.post("/api/v1/orders", api.order_body(424242))
    assert r.status_code == 422
    assert "session_id" in r.json()["detail"]["fields"]


def test_unknown_ids_in_paths_are_404(api: Api, unchanged: None) -> None:
    """Orders, products and sessions that do not exist are 404 not_found."""
    for path in ("/api/v1/orders/999999", "/api/v1/products/999999", "/api/v1/sessions/999999"):
        r = api.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
    assert api.fire(999999, "validate").status_code == 404


def test_oversized_body_is_413(api: Api, session: int, unchanged: None) -> None:
    """A body past the size limit is refused before it is parsed."""
    body = api.order_body(session)
    body["note"] = "x" * 400_000
    r = api.post("/api/v1/orders", body)
    assert r.status_code == 413
    assert r.json()["error"] == "request_too_large"


def test_bad_query_parameters_are_4xx(api: Api, unchanged: None) -> None:
    """Out-of-range limits and forged cursors are refused clearly."""
    assert api.get("/api/v1/orders", params={"limit": 501}).status_code in (400, 422)
    assert api.get("/api/v1/orders", params={"limit": 0}).status_code in (400, 422)
    r = api.get("/api/v1/orders", params={"after": "bm9wZQ"})
    assert r.status_code == 422
    assert api.get("/api/v1/orders", params={"state": "melted"}).status_code in (400, 422)


def test_payment_amount_must_be_positive(api: Api, session: int) -> None:
    """A zero or malformed payment is a 422 and the order stays validated."""
    order = api.create(session)
    api.fire(order["id"], "validate")
    for amount in ("0", "-5", "5.001", "abc"):
        r = api.fire(order["id"], "pay", {"payments": [{"method_id": 1, "amount": amount}]})
        assert r.status_code == 422, (amount, r.text)
    assert api.get(f"/api/v1/orders/{order['id']}").json()["state"] == "validated"
