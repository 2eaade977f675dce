"""``/metrics`` and ``/health``: what monitoring scrapes, and that it moves with the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from hub import events, snapshot
from hub.db.connection import immediate, open_db
from hub.settings import Settings
from tests.conftest import demo_database, make_settings
from tests.ops.test_jobs import ALL_JOBS
from tests.support import local_http
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess
from tests.support.kitchen import wait_until

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    r = local_http.get(url + "/metrics")  # no token: API.md keeps /metrics open
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_parse_and_move_when_orders_flow(tmp_path: Path) -> None:
    """Every number a dashboard plots must parse, and must change when the till sells."""
    db = demo_database(tmp_path / "edgehub.db")
    conn = open_db(make_settings(db))
    with immediate(conn):
        events.set_cursor(conn, "kitchen", 0)
    conn.close()
    hub = HubProcess(db, EDGEHUB_METRICS_CACHE_SECONDS="0").start()
    api = Api(hub.url)
    try:
        before = scrape(hub.url)
        session = api.open_session()
        for _ in range(3):
            order = api.create(session)
            assert api.fire(order["id"], "validate").status_code == 200
            assert api.pay_exact(order).status_code == 200
        after = scrape(hub.url)
    finally:
        api.close()
        hub.stop()
    assert (
        value(after, "edgehub_orders", state="paid")
        == value(before, "edgehub_orders", state="paid") + 3
    )
    for event in ("create", "validate", "pay"):
        moved = value(after, "edgehub_order_transitions_total", event=event)
        assert moved == value(before, "edgehub_order_transitions_total", event=event) + 3
    assert value(after, "edgehub_events_head") > value(before, "edgehub_events_head")
    behind = value(after, "edgehub_event_cursor_behind", consumer="kitchen")
    assert behind == value(after, "edgehub_events_head")
    route = {"method": "POST", "route": "/api/v1/orders/{order_id}/{event}", "status": "200"}
    assert value(after, "edgehub_http_request_duration_seconds_count", **route) == 6
    assert (
        value(
            after,
            "edgehub_http_request_duration_seconds_count",
            method="GET",
            route="/metrics",
            status="200",
        )
        == 0
    )
    assert value(after, "edgehub_audit_rows") >= 3
    assert value(after, "edgehub_job_ok", job="backup") == 1
    assert ("edgehub_sync_lag_seconds", ()) in after


def test_refused_requests_are_counted_with_their_real_status(tmp_path: Path) -> None:
    """A wave of 401s or 403s is what an alert looks for; it must not be counted as 200s."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db, EDGEHUB_METRICS_CACHE_SECONDS="0").start()
    try:
        local_http.get(hub.url + "/api/v1/orders/7")
        local_http.get(hub.url + "/api/v1/orders/8", headers={"Authorization": "Bearer nope"})
        samples = scrape(hub.url)
    finally:
        hub.stop()
    labels = {"method": "GET", "route": "/api/v1/orders/{order_id}", "status": "401"}
    assert value(samples, "edgehub_http_request_duration_seconds_count", **labels) == 2
    assert not any(
        name.startswith("edgehub_http")
        and dict(lbl).get("status") == "200"
        and dict(lbl).get("route", "").startswith("/api/v1/orders")
        for name, lbl in samples
    )


def test_kitchen_jobs_and_devices_are_counted(settings: Settings) -> None:
    """Kitchen jobs by state and devices online feed the metrics and the status screen."""
    from decimal import Decimal

    from hub.auth.users import Actor
    from hub.devices import add_device
    from hub.orders import commands
    from hub.orders.money import Money
    from hub.sessions import open_session

    db = open_db(settings)
    assert snapshot.read(db).kitchen_jobs == {}
    money = Money()
    rules = commands.OrderRules(money=money, store="demo", max_discount_pct=Decimal(30))
    ana = Actor(id=3, role="cashier", name="Ana")
    with immediate(db):
        session = open_session(db, money, ana, terminal="t", opening_cash=0)
        order, _ = commands.create_order(
            db, rules, ana, uuid="u-1", session_id=session.id,
            lines=[commands.LineInput(1, Decimal(1))], note="", fingerprint="f",
        )  # fmt: skip
        add_device(db, "grill-1", station="grill", role="primary", kind="printer")
        add_device(db, "bar-1", station="bar", role="primary", kind="printer")
        db.execute("UPDATE devices SET online = 1 WHERE id = 'grill-1'")
        for job_id, state in (("a", "pending"), ("b", "pending"), ("c", "failed")):
            db.execute(
                "INSERT INTO kitchen_jobs (job_id, order_id, station, kind, state, payload, "
                "created_at, updated_at) VALUES (?, ?, 'grill', 'new', ?, '{}', 'now', 'now')",
                (job_id, order.id, state),
            )
    snap = snapshot.read(db)
    assert snap.kitchen_jobs == {"pending": 2, "failed": 1}
    assert (snap.devices_online, snap.devices_total) == (1, 2)


def test_health_details_each_dependency(tmp_path: Path) -> None:
    """A degraded hub says which dependency is down, since when, and how slow the rest is."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(
        db,
        EDGEHUB_REDIS_URL="redis://127.0.0.1:1/0",  # nothing listens there
    ).start()
    try:
        # The start-up backup runs beside the first requests: on a loaded box /health
        # may answer before it has written the file the detail names.
        def backed_up() -> dict[str, Any] | None:
            body: dict[str, Any] = local_http.get(hub.url + "/health").json()
            return body if body["detail"]["backup"]["newest"] is not None else None

        body = wait_until(backed_up, timeout=30, what="the start-up backup named in /health")
    finally:
        hub.stop()
    assert body["status"] == "degraded"
    assert body["checks"] == {"db": "ok", "redis": "down", "mqtt": "off", "sync": "idle"}
    detail = body["detail"]
    assert detail["db"]["latency_ms"] >= 0
    assert detail["redis"]["status"] == "down" and detail["redis"]["error"]
    assert detail["mqtt"] == {"status": "off", "at": detail["mqtt"]["at"]}
    assert detail["jobs"] == {"failing": [], "stale": []}
    assert detail["backup"]["newest"].startswith("edgehub-demo-")
    with sqlite3.connect(db) as conn:
        ran = {row[0] for row in conn.execute("SELECT name FROM job_runs")}
    assert ran == ALL_JOBS  # every job ran once at start


def test_served_hub_reports_cache_outcomes_and_websocket_connections(tmp_path: Path) -> None:
    """The cache's and the WebSocket layer's own counts reach /metrics on a real hub."""
    import asyncio

    from tests.support.ws_client import events, subscribe, ws_client

    hub = HubProcess(demo_database(tmp_path / "edgehub.db")).start()
    api = Api(hub.url)
    try:
        for _ in range(3):
            assert api.get("/api/v1/products/1").status_code == 200

        async def with_a_screen() -> Samples:
            async with ws_client(hub.url, token=api.token("marco")) as ws:
                await subscribe(ws, "store")
                api.open_session()  # session.updated: one event for the screen
                await events(ws, 1)
                return scrape(hub.url)

        samples = asyncio.run(with_a_screen())
    finally:
        api.close()
        hub.stop()
    assert value(samples, "edgehub_ws_connections") == 1
    assert value(samples, "edgehub_ws_delivery_lag_seconds_count") >= 1
    hits = value(samples, "edgehub_cache_outcomes_total", kind="product", outcome="hits")
    assert hits >= 2
