"""Security at the HTTP edge: login throttling, tokens on every route, keys, headers, CORS."""

from __future__ import annotations

import asyncio
import re
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from hub.auth.roles import ALL_STAFF, PERMISSIONS
from hub.auth.throttle import LoginThrottle
from hub.auth.users import add_user
from hub.db.connection import immediate, open_db
from hub.errors import RateLimited
from hub.orders.machine import EVENTS
from hub.settings import Settings, field_of
from hub.web.api.headers import add_security_headers
from tests.conftest import make_settings
from tests.ops.inprocess import SECRET, login, running
from tests.support.api_client import DEMO_PINS

PUBLIC = {"/health", "/metrics", "/api/v1/auth/token"}  # API.md; plus the OpenAPI schema
# The screens' pages and files (they hold no data) and the customer board's numbers.
PUBLIC |= {"/", "/dashboard", "/kds", "/board", "/screens/{name:str}", "/api/v1/board"}
ROLE_USER = {
    "admin": "admin",
    "manager": "marco",
    "cashier": "ana",
    "kitchen": "kitchen",
    "device": "kds-1",
}
DEVICE_PIN = "4321"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def app_client(settings: Settings) -> Iterator[tuple[Litestar, TestClient[Litestar]]]:
    """The app on the demo store, plus a user of the device role."""
    db = open_db(settings)
    with immediate(db):
        add_user(db, login="kds-1", name="KDS 1", role="device", pin=DEVICE_PIN, iterations=1000)
    db.close()
    with running(make_settings(settings.store.db, secret_key=SECRET)) as pair:
        yield pair


def _login(client: TestClient[Any], role: str) -> dict[str, str]:
    if role == "device":
        r = client.post("/api/v1/auth/token", json={"login": "kds-1", "pin": DEVICE_PIN})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}
    return login(client, ROLE_USER[role])


def _concrete(path: str) -> str:
    """A real URL for a route template: ids are 1, the order event is pay."""
    path = re.sub(r"\{[a-z_]+:int\}", "1", path)
    return re.sub(r"\{[a-z_]+:str\}", "pay", path)


def _calls(app: Litestar) -> Iterator[tuple[str, str, Any]]:
    """Every (method, url, handler) the app serves, OPTIONS (CORS preflight) aside."""
    for route in app.routes:
        if route.path == "/ws":
            continue  # its token checks (close 4401/4403) are tests/realtime/test_auth.py's
        assert isinstance(route, HTTPRoute), f"{route.path}: test the new route kind here"
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                yield method, route.path, handler


def _token(claims: dict[str, Any], key: str = SECRET) -> str:
    base = {"iat": int(time.time()), "exp": int(time.time()) + 600, "sub": "1"}
    return jwt.encode({**base, **claims}, key, "HS256")


def test_brute_force_on_one_login_is_answered_429(app_client: Any) -> None:
    """Five wrong PINs, then the right one is refused too until the window passes."""
    _, client = app_client
    for pin in ("1111", "2222", "3333", "4444", "5555"):
        r = client.post("/api/v1/auth/token", json={"login": "ana", "pin": pin})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", json={"login": "ana", "pin": DEMO_PINS["ana"]})
    assert r.status_code == 429
    assert r.json()["error"] == "rate_limited"
    assert 0 < int(r.headers["Retry-After"]) <= 300


def test_guessing_across_logins_from_one_address_is_answered_429(settings: Settings) -> None:
    """An attacker cycling through logins is limited by the address they guess from,
    at its own limit (``login_address_max_failures``), far above a login's."""
    limited = make_settings(settings.store.db, secret_key=SECRET, login_address_max_failures=5)
    with running(limited) as (_, client):
        for user in ("ana", "marco", "kitchen", "admin", "nobody"):
            r = client.post("/api/v1/auth/token", json={"login": user, "pin": "7777"})
            assert r.status_code == 401
        r = client.post("/api/v1/auth/token", json={"login": "someone", "pin": "7777"})
        assert r.status_code == 429 and "Retry-After" in r.headers


def test_workers_share_one_count_of_failed_logins(settings: Settings) -> None:
    """With ``serve --workers 2`` a guesser must not get five tries from each worker,
    nor a fresh five after a restart: the count lives in the database."""
    with running(settings) as (_, first), running(settings) as (_, second):
        for client, pin in zip((first, second, first, second, first), "12345", strict=True):
            r = client.post("/api/v1/auth/token", json={"login": "ana", "pin": pin * 4})
            assert r.status_code == 401
        assert (
            second.post("/api/v1/auth/token", json={"login": "ana", "pin": "6666"}).status_code
            == 429
        )
    with running(settings) as (_, restarted):
        r = restarted.post("/api/v1/auth/token", json={"login": "ana", "pin": DEMO_PINS["ana"]})
        assert r.status_code == 429


def test_a_success_clears_the_logins_count_not_the_addresss(settings: Settings) -> None:
    """A cashier who mistyped four times and then got it right starts again from zero;
    the address that guessed keeps its count."""
    throttle = LoginThrottle(max_failures=5, window_seconds=300, address_max_failures=5)
    db = open_db(settings)

    def attempt(login: str, address: str, *, ok: bool = False) -> None:
        with immediate(db):
            throttle.settle(db, login, throttle.reserve(db, login, address), ok=ok)

    for _ in range(4):
        attempt("Ana", "10.0.0.1")
    attempt("ana", "10.0.0.1", ok=True)
    for _ in range(4):
        attempt("ana", "10.0.0.2")
    attempt("ana", "10.0.0.2")  # the login's fifth since the success
    with pytest.raises(RateLimited), immediate(db):
        throttle.reserve(db, "ana", "10.0.0.3")
    with pytest.raises(RateLimited), immediate(db):
        throttle.reserve(db, "marco", "10.0.0.2")  # the address's fifth
    attempt("marco", "10.0.0.1")  # 4 from there: the success un-counted only itself
    db.close()


def test_public_routes_are_exactly_the_documented_ones(app_client: Any) -> None:
    """A route that forgot its auth is found here, not by a stranger on the store Wi-Fi."""
    app, client = app_client
    for method, path, _ in _calls(app):
        if path in PUBLIC or path.startswith("/schema"):
            continue
        r = client.request(method, _concrete(path), json={})
        assert r.status_code == 401, (method, path, r.status_code)


def test_expired_forged_and_garbled_tokens_are_refused_on_every_route(app_client: Any) -> None:
    """However a bad token is made, no route lets it through, the open ones aside."""
    app, client = app_client
    bad = {
        "expired": _token({"exp": int(time.time()) - 5, "iat": int(time.time()) - 100}),
        "forged": _token({}, key="another-key-" + "x" * 40),
        "no signature": _token({}).rsplit(".", 1)[0] + ".",
        "alg none": jwt.encode({"sub": "1", "exp": int(time.time()) + 600}, None, "none"),
        "garbage": "not-a-token",
    }
    refused = []
    for method, path, _ in _calls(app):
        if path in PUBLIC or path.startswith("/schema"):
            continue
        for kind, token in bad.items():
            r = client.request(
                method, _concrete(path), json={}, headers={"Authorization": f"Bearer {token}"}
            )
            refused.append((method, path, kind, r.status_code, r.json().get("error")))
    wrong = [c for c in refused if c[3:] != (401, "unauthorized")]
    assert not wrong
    assert len(refused) >= 5 * 14


def test_a_role_is_refused_on_every_route_it_may_not_use(app_client: Any) -> None:
    """Each guarded route answers 403 to every role outside its list, before touching data."""
    app, client = app_client
    headers = {role: _login(client, role) for role in ROLE_USER}
    checked = 0
    for method, path, handler in _calls(app):
        for guard in handler.guards or []:
            allowed = getattr(guard, "roles", None)
            if allowed is None:
                continue
            assert allowed <= ALL_STAFF
            for role in set(ROLE_USER) - allowed:
                r = client.request(method, _concrete(path), json={}, headers=headers[role])
                assert (r.status_code, r.json()["error"]) == (403, "forbidden"), (
                    method,
                    path,
                    role,
                )
                checked += 1
    assert checked >= 14  # the events, jobs and till routes, at least


def test_a_role_may_fire_only_its_own_order_events(app_client: Any) -> None:
    """The kitchen bumps orders but never takes money; a device never cancels a sale."""
    _, client = app_client
    till = login(client, "ana")
    session = client.post("/api/v1/sessions", json={"terminal": "t"}, headers=till).json()["id"]
    body = {
        "uuid": str(uuid.uuid4()),
        "session_id": session,
        "lines": [{"product_id": 1, "qty": "1"}],
    }
    order = client.post("/api/v1/orders", json=body, headers=till).json()["id"]
    headers = {role: _login(client, role) for role in ROLE_USER}
    for event in EVENTS:
        for role in set(ROLE_USER) - PERMISSIONS[f"order.{event}"]:
            r = client.post(f"/api/v1/orders/{order}/{event}", json={}, headers=headers[role])
            assert r.status_code == 403, (event, role, r.text)


def test_jwt_key_is_generated_per_store_0600_with_no_builtin_default(tmp_path: Path) -> None:
    """A key shipped in the code would let anyone mint tokens for every store."""
    assert field_of("secret_key").default is None
    one = make_settings(tmp_path / "a" / "edgehub.db")
    two = make_settings(tmp_path / "b" / "edgehub.db")
    key = one.with_jwt_secret().jwt_secret()
    assert stat.S_IMODE(one.secret_path.stat().st_mode) == 0o600
    again = make_settings(one.store.db).with_jwt_secret().jwt_secret()
    assert len(key) >= 48 and key == again  # generated once, then read back
    assert two.with_jwt_secret().jwt_secret() != key


def test_the_jwt_key_is_read_once_when_the_app_is_built(tmp_path: Path) -> None:
    """The key is loaded at start-up: signing a token later touches no file."""
    settings = make_settings(tmp_path / "edgehub.db")
    with pytest.raises(RuntimeError, match="no JWT key loaded"):
        settings.jwt_secret()
    loaded = settings.with_jwt_secret()
    settings.secret_path.unlink()
    assert loaded.jwt_secret() == loaded.with_jwt_secret().jwt_secret()
    assert not settings.secret_path.exists()


def test_every_answer_carries_the_security_headers(app_client: Any) -> None:
    """Errors and 404s included: those are what a scanner sees first."""
    _, client = app_client
    answers = [
        client.get("/health"),
        client.get("/api/v1/orders"),  # 401
        client.get("/nowhere"),  # 404
        client.post("/api/v1/auth/token", json={"login": 5}),  # 422
        client.get("/api/v1/products", headers=login(client, "ana")),
    ]
    for r in answers:
        assert r.headers["X-Content-Type-Options"] == "nosniff", r.url
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["Cache-Control"] == "no-store"


def test_cors_answers_only_the_configured_origins(settings: Settings) -> None:
    """By default no web page may call the hub from a browser; a listed origin may."""
    preflight = {"Access-Control-Request-Method": "GET", "Origin": "https://kds.example"}
    with running(settings) as (_, client):
        r = client.options("/api/v1/products", headers=preflight)
        assert "access-control-allow-origin" not in r.headers
    listed = make_settings(settings.store.db, cors_origins="https://kds.example")
    with running(listed) as (_, client):
        r = client.options("/api/v1/products", headers=preflight)
        assert r.headers["access-control-allow-origin"] == "https://kds.example"
        r = client.options(
            "/api/v1/products", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in r.headers


def test_a_handlers_own_header_wins_over_the_default() -> None:
    """A route that may be cached says so itself; the hook adds only what is missing."""
    message: Any = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"Cache-Control", b"max-age=60")],
    }
    asyncio.run(add_security_headers(message, {}))  # type: ignore[arg-type]
    names = [name.lower() for name, _ in message["headers"]]
    assert names.count(b"cache-control") == 1
    assert (b"Cache-Control", b"max-age=60") in message["headers"]
    assert (b"x-frame-options", b"DENY") in message["headers"]
