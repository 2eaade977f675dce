"""Catalogue search and edits over HTTP, on a real served hub, as a till sees them."""

from __future__ import annotations

import socket
import time
from urllib.parse import quote

import pytest

from hub.web.api import pagination
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess


def items(api: Api, **params: object) -> list[dict[str, object]]:
    r = api.get("/api/v1/products", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_search_by_name_fragment_accent_blind(api: Api) -> None:
    """A till types 'jalapeno' and gets the Jalapeño Burger."""
    assert [p["name"] for p in items(api, q="jalapeno")] == ["Jalapeño Burger"]


def test_search_forgives_a_typo(api: Api) -> None:
    """'capuccino' finds the Cappuccino (once the hub has read its words, right after start)."""
    deadline = time.monotonic() + 10
    while not (found := items(api, q="capuccino")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p["name"] for p in found] == ["Cappuccino"]
    assert items(api, q="capuccino", fuzzy="never") == []


def test_search_pages_follow_the_cursor(api: Api) -> None:
    """Pages of a search join up through ``next`` with no product twice."""
    whole = [p["id"] for p in items(api, q="c", limit=500)]
    seen: list[object] = []
    after = None
    while True:
        params: dict[str, object] = {"q": "c", "limit": 4}
        if after:
            params["after"] = after
        body = api.get("/api/v1/products", params=params).json()
        seen += [p["id"] for p in body["items"]]
        after = body["next"]
        if after is None:
            break
    assert seen == whole and len(whole) > 8


def test_search_filters_by_category(api: Api) -> None:
    """category_id narrows a search to that category."""
    categories = api.get("/api/v1/categories").json()["items"]
    drinks = next(c["id"] for c in categories if c["name"] == "Drinks")
    found = items(api, q="e", category_id=drinks)
    assert found and all(p["category_id"] == drinks for p in found)


def test_barcode_lookup_still_exact(api: Api) -> None:
    """The scanner path answers one product by its exact barcode."""
    assert [p["name"] for p in items(api, barcode="2000000000039")] == ["Jalapeño Burger"]
    assert items(api, barcode="0000000000000") == []


@pytest.mark.parametrize(
    "q",
    ['"', "*", "NEAR(", "a AND", "x OR NOT y", "^", "'", "%", "\\", "🍔", "\u202e", "a\tb"],
)
def test_hostile_queries_answer_200(api: Api, q: str) -> None:
    """FTS5 and SQL syntax in q is searched for as text: 200, never 500."""
    r = api.get("/api/v1/products", params={"q": q})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "raw", ["%ED%A0%80", "%ED%BF%BF", "%FF%FE", "%00", "%C0%AF", "caf%E9", "%1B%5B2J"]
)
def test_broken_bytes_in_q_never_fail(served_hub: HubProcess, api: Api, raw: str) -> None:
    """Lone surrogates, invalid UTF-8, NUL or escapes in the raw URL: 200 or 4xx, never 500."""
    with socket.create_connection(("127.0.0.1", served_hub.port), timeout=5) as conn:
        request = (
            f"GET /api/v1/products?q={raw} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {api.token('ana')}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(request.encode())
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    status = int(response.split(b" ", 2)[1])
    assert status in (200, 400, 422), response[:300]


def test_overlong_query_is_a_422_in_the_error_shape(api: Api) -> None:
    """10 kB of q is refused before it reaches the database, with a stable code."""
    r = api.get("/api/v1/products", params={"q": "burger " * 1500})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "validation_error" and "q" in str(body["detail"])


def test_forged_cursor_and_bad_filters_are_422(api: Api) -> None:
    """A cursor the hub did not give out, or an unknown availability, is the client's error."""
    for params in (
        {"q": "burger", "after": "bm9wZQ"},
        {"q": "burger", "after": quote("p:1")},
        {"after": "eyJ4Ijox"},
        {"after": pagination.encode("p", 10**30)},  # no SQLite integer
        {"q": "burger", "after": pagination.encode("search", '[1,"a",1e400]')},
        {"q": "burger", "available": "maybe"},
        {"q": "burger", "fuzzy": "sometimes"},
        {"q": "burger", "after": pagination.encode("search", '[6,"x",1]')},
        {"category_id": "0"},
    ):
        r = api.get("/api/v1/products", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"] == "validation_error"


def test_unavailable_products_on_request(api: Api) -> None:
    """available=any also lists what is off sale; the default lists only sellable ones."""
    every = items(api, available="any", limit=500)
    sellable = items(api, limit=500)
    assert len(every) >= len(sellable) and all(p["available"] for p in sellable)


def test_a_cashier_cannot_change_a_price(api: Api) -> None:
    """Prices are a manager's call: a cashier's PATCH is a 403 and changes nothing."""
    before = api.get("/api/v1/products/2").json()["price"]
    assert api.patch("/api/v1/products/2", {"price": "1.00"}, as_="ana").status_code == 403
    assert api.get("/api/v1/products/2").json()["price"] == before


@pytest.mark.parametrize(
    ("product", "body", "status"),
    [
        (9999, {"price": "1.00"}, 404),
        (2, {"price": "-1"}, 422),
        (2, {"price": "1.005"}, 422),
        (2, {"price": 1.5}, 422),
        (2, {}, 422),
        (2, {"name": ""}, 422),
        (2, {"colour": "red"}, 422),
        (2, {"price": "1.00", "category_id": 999}, 422),
    ],
)
def test_bad_product_changes_are_refused(
    api: Api, product: int, body: dict[str, object], status: int
) -> None:
    """Unknown products, bad prices or fields are refused in the error shape; nothing is written."""
    r = api.patch(f"/api/v1/products/{product}", body, as_="marco")
    assert r.status_code == status, r.text
    assert "error" in r.json()


def test_cache_stats_for_managers(api: Api) -> None:
    """Managers see the cache's counters per kind; a cashier may not."""
    assert api.get("/api/v1/cache/stats", as_="ana").status_code == 403
    body = api.get("/api/v1/cache/stats", as_="marco").json()
    assert body["redis"] == "off" and body["backend"] == "memory"
    assert set(body["kinds"]) >= {"product", "categories", "session", "actor", "search"}
    assert {"hits", "misses", "errors", "evictions"} <= set(body["kinds"]["product"])


def test_health_says_redis_off_without_a_url(api: Api) -> None:
    """With no EDGEHUB_REDIS_URL, health reports redis off and the hub ok."""
    body = api.http.get("/health").json()
    assert body["checks"]["redis"] == "off" and body["status"] == "ok"
