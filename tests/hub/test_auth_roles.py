"""Who may do what: tokens are required, roles are enforced on every route."""

from __future__ import annotations

import time

import jwt

from tests.support import local_http
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess


def test_token_response_has_the_documented_shape(api: Api) -> None:
    """The login answer matches API.md field for field."""
    r = api.http.post("/api/v1/auth/token", json={"login": "ana", "pin": "1234"})
    body = r.json()
    assert r.status_code == 200
    assert body["token_type"] == "bearer"
    assert body["role"] == "cashier"
    assert body["user"] == {"id": 3, "name": "Ana"}
    assert body["expires_in"] == 43200


def test_wrong_pin_is_401(api: Api) -> None:
    """A wrong PIN and an unknown login look the same to the caller."""
    for login in ("ana", "nobody"):
        r = api.http.post("/api/v1/auth/token", json={"login": login, "pin": "0001"})
        assert r.status_code == 401
        assert r.json()["error"] == "unauthorized"


def test_routes_need_a_token(api: Api) -> None:
    """Without a token, every API route answers 401; /health does not."""
    for path in ("/api/v1/orders", "/api/v1/products", "/api/v1/events", "/api/v1/categories"):
        r = api.http.get(path)
        assert r.status_code == 401, path
        assert r.json()["error"] == "unauthorized"
    assert api.http.get("/health").status_code == 200


def test_forged_and_expired_tokens_are_refused(api: Api, served_hub: HubProcess) -> None:
    """A token signed with another key, or past its expiry, is a 401."""
    other_key = "k" * 48
    forged = jwt.encode({"sub": "1", "exp": int(time.time()) + 60}, other_key, "HS256")
    real_key = served_hub.db.with_name(served_hub.db.name + ".secret").read_text().strip()
    claims = jwt.decode(api.token("ana"), options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 10
    expired = jwt.encode(claims, real_key, "HS256")
    claims["exp"] = int(time.time()) + 600
    claims["sub"] = "1"  # escalate to the admin's id
    tampered = jwt.encode(claims, other_key, "HS256")
    for token in (forged, expired, tampered, "garbage"):
        r = api.http.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token


def test_kitchen_cannot_pay(api: Api) -> None:
    """The kitchen role bumps orders but never takes money."""
    session = api.open_session()
    order = api.create(session)
    api.fire(order["id"], "validate")
    r = api.fire(
        order["id"], "pay", {"payments": [{"method_id": 1, "amount": "20"}]}, as_="kitchen"
    )
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    assert api.get(f"/api/v1/orders/{order['id']}").json()["state"] == "validated"


def test_kitchen_cannot_create_orders_or_sessions(api: Api) -> None:
    """Kitchen screens read orders; they do not take them."""
    assert api.post("/api/v1/sessions", {"terminal": "kds"}, as_="kitchen").status_code == 403
    r = api.post("/api/v1/orders", api.order_body(1), as_="kitchen")
    assert r.status_code == 403


def test_cashier_cannot_read_the_event_log(api: Api) -> None:
    """The raw log is for integrations: managers and admins only."""
    assert api.get("/api/v1/events").status_code == 403
    assert api.get("/api/v1/events", as_="marco").status_code == 200
    assert api.get("/api/v1/events", as_="admin").status_code == 200


def test_deactivated_user_loses_access_at_once(served_hub: HubProcess, api: Api) -> None:
    """A valid token stops working the moment its user is deactivated."""
    from tests.support.hub_process import run_cli

    assert (
        run_cli(
            served_hub.db, "user", "add", "temp", "--role", "cashier", "--pin", "4321"
        ).returncode
        == 0
    )
    token = api.http.post("/api/v1/auth/token", json={"login": "temp", "pin": "4321"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert api.http.get("/api/v1/products", headers=headers).status_code == 200
    assert run_cli(served_hub.db, "user", "disable", "temp").returncode == 0
    # Another process disabled the user: this hub learns it from the log within a tick.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = api.http.get("/api/v1/products", headers=headers).status_code
        if status == 401:
            break
        time.sleep(0.05)
    assert status == 401


def test_openapi_schema_is_served(api: Api) -> None:
    """Client developers get a schema listing the order routes."""
    schema = local_http.get(api.http.base_url.join("/schema/openapi.json")).json()
    assert "/api/v1/orders" in schema["paths"]
    assert "/api/v1/orders/{order_id}/{event}" in schema["paths"]
