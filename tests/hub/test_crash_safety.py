"""kill -9 the hub while tills post orders: every acknowledged order survives, whole."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import demo_database
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess


def _till(url: str, session: int, acked: dict[str, str], stop: threading.Event) -> None:
    """Create, validate and pay orders until the hub dies; remember each acknowledged step."""
    api = Api(url)
    api.token("ana")
    try:
        while not stop.is_set():
            body = api.order_body(
                session, [{"product_id": 1, "qty": "1"}, {"product_id": 10, "qty": "2"}]
            )
            r = api.post("/api/v1/orders", body)
            if r.status_code != 201:
                return
            acked[body["uuid"]] = "draft"
            order = r.json()
            r = api.fire(order["id"], "validate")
            if r.status_code != 200:
                return
            acked[body["uuid"]] = "validated"
            r = api.pay_exact(r.json())
            if r.status_code != 200:
                return
            acked[body["uuid"]] = "paid"
    except httpx.HTTPError:
        return  # the hub died under us: what was acknowledged is in `acked`
    finally:
        api.close()


def test_acknowledged_orders_survive_kill_9(tmp_path: Path) -> None:
    """After SIGKILL and restart, each 2xx order is there in its acknowledged state, with events."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db).start()
    api = Api(hub.url)
    session = api.open_session()
    api.close()
    acked: dict[str, str] = {}
    stop = threading.Event()
    tills = [threading.Thread(target=_till, args=(hub.url, session, acked, stop)) for _ in range(3)]
    for t in tills:
        t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    hub.kill()
    stop.set()
    for t in tills:
        t.join(10)
    assert len(acked) >= 60, "the tills did not get going"

    restarted = HubProcess(db).start()
    try:
        check = Api(restarted.url)
        with sqlite3.connect(db) as conn:
            for uuid, state in acked.items():
                row = conn.execute(
                    "SELECT id, state FROM orders WHERE uuid = ?", (uuid,)
                ).fetchone()
                assert row is not None, f"acknowledged order {uuid} was lost"
                order = check.get(f"/api/v1/orders/{row[0]}").json()
                order_states = [h["to"] for h in order["state_history"]]
                assert state in order_states, (uuid, state, order_states)
                assert len(order["lines"]) == 2
            # Nothing half-written: for every order, history rows and order events match.
            for (order_id,) in conn.execute("SELECT id FROM orders").fetchall():
                history = conn.execute(
                    "SELECT to_state FROM order_history WHERE order_id = ? ORDER BY id", (order_id,)
                ).fetchall()
                logged = [
                    json.loads(data)["state"]
                    for (data,) in conn.execute(
                        "SELECT data FROM events WHERE event IN ('order.created', 'order.updated') "
                        "AND json_extract(data, '$.id') = ? ORDER BY seq",
                        (order_id,),
                    ).fetchall()
                ]
                assert [h[0] for h in history] == logged
                lines = conn.execute(
                    "SELECT COUNT(*) FROM order_lines WHERE order_id = ?", (order_id,)
                ).fetchone()
                assert lines == (2,)
        check.close()
    finally:
        restarted.stop()
