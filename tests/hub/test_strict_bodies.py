"""Each request body is decoded once, strictly (hub.web.api.strict_bodies): a string where a
number belongs, or a field the API does not have, is a 422 naming it on every route."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.routes import HTTPRoute

from hub.settings import Settings
from hub.web.api.strict_bodies import StrictBody
from hub.web.app import create_app
from tests.support.api_client import Api


def test_every_route_with_a_body_decodes_it_strictly(settings: Settings) -> None:
    """A body route left to Litestar's lax decoding would take ``"1"`` for ``1`` again."""
    app = create_app(settings)
    bodies = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.parsed_data_field is not None:
                bodies.append(route.path)
                assert issubclass(handler.resolve_data_dto() or object, StrictBody), route.path
    assert len(bodies) >= 14  # token, orders (3), sessions (2), kitchen (2), catalogue (6)


UUID = "7f0e3c2a-1111-4222-8333-944445555666"
LAX = [
    ("POST", "/api/v1/sessions", {"terminal": 1}, "terminal", "`str`, got `int`"),
    ("POST", "/api/v1/sessions/1/close", {"closing_cash": 0}, "closing_cash", "`str`, got `int`"),
    (
        "POST",
        "/api/v1/orders/1/pay",
        {"payments": [{"method_id": "1", "amount": "1"}]},
        "payments[0].method_id",
        "`int`, got `str`",
    ),
    (
        "POST",
        "/api/v1/kitchen/products/1/availability",
        {"available": "false"},
        "available",
        "`bool`, got `str`",
    ),
    (
        "POST",
        "/api/v1/products",
        {"name": "Tea", "price": "1", "category_id": "1"},
        "category_id",
        "`int | null`, got `str`",
    ),
    ("PATCH", "/api/v1/products/1", {"stock_tracked": 1}, "stock_tracked", "`bool`, got `int`"),
    ("POST", "/api/v1/categories", {"name": "T", "sequence": "2"}, "sequence", "`int`, got `str`"),
    ("PATCH", "/api/v1/categories/1", {"parent_id": 1.0}, "parent_id", "`int | null`, got `float`"),
    (
        "POST",
        "/api/v1/taxes",
        {"name": "V", "amount": "5", "active": 1},
        "active",
        "`bool`, got `int`",
    ),
    ("PATCH", "/api/v1/taxes/1", {"price_include": 0}, "price_include", "`bool`, got `int`"),
]


@pytest.mark.parametrize(("method", "path", "body", "field", "expected"), LAX)
def test_a_lax_value_is_a_422_naming_it(
    api: Api, method: str, path: str, body: dict[str, Any], field: str, expected: str
) -> None:
    """The answer a till developer reads to fix the call: the field, and what was wrong."""
    r = api.http.request(method, path, json=body, headers=api.headers("admin"))
    assert r.status_code == 422, r.text
    assert r.json() == {
        "error": "validation_error",
        "message": "the request does not match the schema",
        "detail": {"fields": {field: f"Expected {expected}"}},
    }


def test_an_unknown_field_is_a_422_naming_it(api: Api) -> None:
    """A misspelt field is refused, not dropped: the call would not do what was meant."""
    body = {"order_uuid": UUID, "station": "grill", "action": "start", "by": "me"}
    r = api.http.post("/api/v1/kitchen/bumps", json=body, headers=api.headers("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == {"fields": {"data": "Object contains unknown field `by`"}}


def test_a_token_request_with_a_number_for_a_pin_is_refused(api: Api) -> None:
    """The public route too: a PIN sent as a number is not quietly taken as text."""
    r = api.http.post("/api/v1/auth/token", json={"login": "ana", "pin": 1234})
    assert r.status_code == 422
    assert r.json()["detail"] == {"fields": {"pin": "Expected `str | null`, got `int`"}}
