"""Client uuids make order creation safe to retry, and concurrent moves safe to race."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from tests.support.api_client import Api
from tests.support.hub_process import HubProcess


def test_replayed_uuid_returns_the_same_order(api: Api, served_hub: HubProcess) -> None:
    """A till that retries after a timeout gets the first order back, not a second one."""
    session = api.open_session()
    body = api.order_body(session, [{"product_id": 3, "qty": "2", "note": "extra hot"}])
    first = api.post("/api/v1/orders", body)
    again = api.post("/api/v1/orders", body)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    with sqlite3.connect(served_hub.db) as conn:
        count = conn.execute(
            "SELECT COUNT(*) FROM orders WHERE uuid = ?", (body["uuid"],)
        ).fetchone()
        events = conn.execute(
            "SELECT COUNT(*) FROM events WHERE event = 'order.created' AND data LIKE ?",
            (f"%{body['uuid']}%",),
        ).fetchone()
    assert count == (1,)
    assert events == (1,)


def test_same_uuid_with_a_different_body_is_409(api: Api) -> None:
    """Reusing a uuid for another order is a client bug, reported as uuid_conflict."""
    session = api.open_session()
    body = api.order_body(session)
    assert api.post("/api/v1/orders", body).status_code == 201
    body["lines"] = [{"product_id": 2, "qty": "1"}]
    r = api.post("/api/v1/orders", body)
    assert r.status_code == 409
    assert r.json()["error"] == "uuid_conflict"


def test_concurrent_creates_of_one_uuid_make_one_order(api: Api, served_hub: HubProcess) -> None:
    """Eight tills' retries racing with the same uuid still create exactly one order."""
    session = api.open_session()
    body = api.order_body(session)
    token = api.headers("ana")
    results: list[int] = []

    def post() -> None:
        client = Api(served_hub.url)
        client._tokens["ana"] = token["Authorization"].split()[1]
        results.append(client.post("/api/v1/orders", body).status_code)
        client.close()

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 7 + [201]


def test_concurrent_pay_exactly_one_wins(api: Api, served_hub: HubProcess) -> None:
    """Two tills paying the same order at once: one succeeds, one gets 409, one payment row."""
    session = api.open_session()
    order = api.create(session)
    api.fire(order["id"], "validate")
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def pay(login: str) -> None:
        client = Api(served_hub.url)
        client.token(login)
        barrier.wait()
        r = client.fire(
            order["id"], "pay", {"payments": [{"method_id": 1, "amount": "9.50"}]}, as_=login
        )
        results.append(r.status_code)
        client.close()

    threads = [threading.Thread(target=pay, args=(login,)) for login in ("ana", "marco")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    final = api.get(f"/api/v1/orders/{order['id']}").json()
    assert final["state"] == "paid"
    assert len([p for p in final["payments"] if p["kind"] == "payment"]) == 1
    assert [h["event"] for h in final["state_history"]].count("pay") == 1
