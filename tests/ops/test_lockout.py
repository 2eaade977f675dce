"""Wrong PINs lock out one login, not the store; approvals count alike; a manager unlocks.

Each test runs the real ``edgehub serve`` (and ``edgehub user unlock``) on a
demo store, as a store would, and reads what it wrote with sqlite3.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import demo_database
from tests.support.api_client import DEMO_PINS, Api
from tests.support.hub_process import HubProcess, run_cli

TOKEN = "/api/v1/auth/token"
BURGER = 1
MARCO = "Marco"  # the demo manager's name


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[HubProcess, Api]]:
    """A hub of its own: every test here spends a login's tries."""
    hub = HubProcess(demo_database(tmp_path / "edgehub.db")).start()
    api = Api(hub.url)
    yield hub, api
    api.close()
    hub.stop()


def _audit(db: Path, action: str) -> list[dict[str, object]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT data FROM audit WHERE action = ? ORDER BY id", (action,))
        return [json.loads(row[0]) for row in rows]


def _fail(api: Api, login: str, times: int) -> None:
    for _ in range(times):
        assert api.http.post(TOKEN, json={"login": login, "pin": "86420"}).status_code == 401


def test_one_logins_lockout_leaves_the_other_logins_of_the_address_alone(
    served: tuple[HubProcess, Api],
) -> None:
    """Five wrong PINs for marco from a till lock out marco only: ana and admin, behind
    the same address, still log in; marco is told when he may retry."""
    hub, api = served
    _fail(api, "marco", 5)
    refused = api.http.post(TOKEN, json={"login": "marco", "pin": DEMO_PINS["marco"]})
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert refused.json()["detail"]["scope"] == "login"
    assert 0 < int(refused.headers["Retry-After"]) <= 300
    assert "ask a manager to unlock" in refused.json()["message"]
    for login in ("ana", "admin"):
        r = api.http.post(TOKEN, json={"login": login, "pin": DEMO_PINS[login]})
        assert r.status_code == 200, (login, r.text)
    locked = _audit(hub.db, "login_locked")
    assert len(locked) == 1
    assert locked[0]["login"] == "marco" and locked[0]["scope"] == "login"


def test_a_cashier_cannot_guess_a_managers_pin_through_an_approval(
    served: tuple[HubProcess, Api],
) -> None:
    """Wrong approval PINs in PATCH /orders/{id} count against the manager's login:
    after five, even the right PIN is refused (429) there and at /auth/token, and each
    try is audited."""
    hub, api = served
    order = api.create(api.open_session())
    before = api.get(f"/api/v1/orders/{order['id']}").json()
    patch = {"lines": [{"product_id": BURGER, "qty": "1", "price_unit": "8.00"}]}
    for pin in ("1111", "2222", "3333", "4444", "5555"):
        r = api.patch(
            f"/api/v1/orders/{order['id']}", {**patch, "approval": {"login": "marco", "pin": pin}}
        )
        assert r.status_code == 401, r.text
    right = {**patch, "approval": {"login": "marco", "pin": DEMO_PINS["marco"]}}
    r = api.patch(f"/api/v1/orders/{order['id']}", right)
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert api.http.post(TOKEN, json={"login": "marco", "pin": "9999"}).status_code == 429
    assert api.get(f"/api/v1/orders/{order['id']}").json() == before
    failed = [row for row in _audit(hub.db, "login_failed") if row.get("purpose") == "approval"]
    assert len(failed) == 5 and all(row["login"] == "marco" for row in failed)
    assert [row["purpose"] for row in _audit(hub.db, "login_locked")] == ["approval"]


def test_edgehub_user_unlock_lets_the_login_in_and_is_audited(
    served: tuple[HubProcess, Api],
) -> None:
    """The operator's ``edgehub user unlock marco``, beside the running hub, ends the
    lockout at once; an unknown login is an error that writes nothing."""
    hub, api = served
    _fail(api, "marco", 5)
    assert api.http.post(TOKEN, json={"login": "marco", "pin": "9999"}).status_code == 429
    result = run_cli(hub.db, "user", "unlock", "marco")
    assert result.returncode == 0, result.stderr
    assert "user marco unlocked (5 failed attempt(s) cleared)" in result.stdout
    assert api.http.post(TOKEN, json={"login": "marco", "pin": "9999"}).status_code == 200
    unlocked = _audit(hub.db, "login_unlocked")
    assert unlocked == [{"login": "marco", "failures_cleared": 5}]

    before = hub.db.read_bytes()
    unknown = run_cli(hub.db, "user", "unlock", "nobody")
    assert unknown.returncode == 2
    assert "no user 'nobody'" in unknown.stderr
    assert len(_audit(hub.db, "login_unlocked")) == 1
    assert hub.db.read_bytes() == before


def test_a_manager_unlocks_over_the_api_and_a_cashier_may_not(
    served: tuple[HubProcess, Api],
) -> None:
    """POST /api/v1/users/{login}/unlock is for managers; it is audited under their name."""
    hub, api = served
    _fail(api, "ana", 5)
    assert api.http.post(TOKEN, json={"login": "ana", "pin": "1234"}).status_code == 429
    assert api.post("/api/v1/users/ana/unlock", as_="kitchen").status_code == 403
    assert api.post("/api/v1/users/nobody/unlock", as_="marco").status_code == 404
    r = api.post("/api/v1/users/ana/unlock", as_="marco")
    assert r.status_code == 200 and r.json() == {"login": "ana", "failures_cleared": 5}
    assert api.http.post(TOKEN, json={"login": "ana", "pin": "1234"}).status_code == 200
    with sqlite3.connect(hub.db) as conn:
        actor = conn.execute("SELECT actor FROM audit WHERE action = 'login_unlocked'").fetchall()
    assert actor == [(MARCO,)]


def test_an_address_guessing_across_logins_is_stopped_at_its_own_limit(
    tmp_path: Path,
) -> None:
    """A guesser cycling through logins meets the address limit (here 8), with Retry-After."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db, EDGEHUB_LOGIN_ADDRESS_MAX_FAILURES="8").start()
    api = Api(hub.url)
    try:
        for login in ("ana", "marco", "kitchen", "admin") * 2:
            _fail(api, login, 1)
        r = api.http.post(TOKEN, json={"login": "someone", "pin": "7777"})
        assert r.status_code == 429 and "Retry-After" in r.headers
        assert r.json()["detail"]["scope"] == "address"
        assert [row["scope"] for row in _audit(db, "login_locked")] == ["address"]
    finally:
        api.close()
        hub.stop()
