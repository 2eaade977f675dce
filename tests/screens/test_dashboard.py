"""The manager's dashboard in Chromium: who may open it, devices going offline, parked sync."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect

from cloud_sync import outbox
from hub import events
from hub import sync_status as status
from hub.db.connection import immediate, open_db
from tests.conftest import make_settings
from tests.screens.conftest import (
    GRILL_BURGER,
    PHONE,
    TABLET,
    live_page,
    paid_order,
    shot,
    sign_in,
)
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess


@pytest.fixture(scope="module")
def manager_page(browser: Any, hub: HubProcess) -> Iterator[Any]:
    with live_page(browser, f"{hub.url}/", "marco", "9999") as page:
        yield page


def test_a_kitchen_login_is_refused_by_the_dashboard(browser: Any, hub: HubProcess) -> None:
    context = browser.new_context(viewport=TABLET)
    try:
        page = context.new_page()
        page.goto(f"{hub.url}/")
        sign_in(page, "kitchen", "5555")
        page.wait_for_selector("#refused:has-text('Refused')", timeout=2000)
        assert page.is_hidden("#panels")
        assert page.evaluate("sessionStorage.getItem('edgehub.token')") is None
        shot(page, "dashboard-refused-1280x800")
    finally:
        context.close()
    # The refusal is the hub's, not the page's: the data route says 403 to the kitchen.
    client = Api(hub.url)
    try:
        assert client.get("/api/v1/dashboard", as_="kitchen").status_code == 403
        assert client.get("/api/v1/dashboard", as_="ana").status_code == 403
        assert client.get("/api/v1/dashboard", as_="marco").status_code == 200
    finally:
        client.close()


def test_the_dashboard_shows_a_device_going_offline(
    manager_page: Any, hub: HubProcess, till: Api
) -> None:
    row = '#devices tr[data-device$="/kds-pass"]'
    url = hub.url.replace("http", "ws") + "/ws?client=kds-pass"
    with connect(url) as ws:
        ws.send(json.dumps({"type": "auth", "token": till.token("kitchen")}))
        ws.send(json.dumps({"type": "subscribe", "room": "kitchen:grill"}))
        ws.recv(timeout=5)
        manager_page.wait_for_selector(f"{row} td.good:has-text('online')", timeout=3000)
    manager_page.wait_for_selector(f"{row} td.bad:has-text('offline')", timeout=3000)


def test_a_parked_sync_order_is_shown_and_its_retry_button_retries_it(
    manager_page: Any, hub: HubProcess, till: Api
) -> None:
    order = paid_order(till, till.open_session(), (GRILL_BURGER, "1"))
    settings = make_settings(hub.db)
    db = open_db(settings)
    try:
        # What edgehub sync records when Odoo refuses an order: the row parked
        # with Odoo's message, and a sync.status event for the screens.
        with immediate(db):
            outbox.tail(db)
            (item,) = [i for i in outbox.next_batch(db, 100) if i.order_id == order["id"]]
            outbox.mark_in_flight(db, [item.id])
            refused = {item.id: ("validation", "Odoo: the product has no income account")}
            outbox.record(db, outbox.Outcome({}, refused, set()))
            summary = status.summary(status.read(db, settings))
            events.append(db, "sync.status", summary, ["store"])
    finally:
        db.close()
    parked = f'#parked tr[data-item="{item.id}"]'
    manager_page.wait_for_selector(f"{parked}:has-text('income account')", timeout=3000)
    shot(manager_page, "dashboard-1280x800")
    manager_page.click(f"{parked} button.retry")
    manager_page.wait_for_selector(parked, state="detached", timeout=3000)
    after = till.get("/api/v1/sync/status", as_="marco").json()
    assert item.id not in [p["id"] for p in after["parked"]]
    assert after["pending"] >= 1  # back in the queue for the agent's next turn


def test_dashboard_at_phone_width(browser: Any, hub: HubProcess) -> None:
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{hub.url}/")
        sign_in(page, "marco", "9999")
        page.wait_for_selector("#devices tr", timeout=5000)
        page.wait_for_selector("#health dd", timeout=5000)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "dashboard-phone")
    finally:
        context.close()
