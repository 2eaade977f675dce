"""The kitchen display and the customer board in Chromium, against a served hub.

The tests of this module run in order on one hub: a paid order reaches the
grill screen, a bump moves it to the board's ready column, a dropped socket
loses and repeats nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.conftest import demo_database
from tests.screens.conftest import (
    BAR_ESPRESSO,
    GRILL_BURGER,
    PHONE,
    TABLET,
    live_page,
    paid_order,
    shot,
    sign_in,
)
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess, run_cli


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A hub whose grill tickets turn amber after 2 s and red after 4 s, and whose board
    lets a ready number go after 4 s."""
    db = demo_database(tmp_path_factory.mktemp("kds") / "edgehub.db")
    served = HubProcess(
        db, EDGEHUB_KDS_STATION_AGES="grill=2:4", EDGEHUB_BOARD_READY_SECONDS="4"
    ).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def session_id(till: Api) -> int:
    return till.open_session()


@pytest.fixture(scope="module")
def kds(browser: Any, hub: HubProcess) -> Iterator[Any]:
    """The grill's screen, signed in with the kitchen PIN, for the whole module."""
    with live_page(browser, f"{hub.url}/kds?station=grill", "kitchen", "5555") as page:
        yield page


@pytest.fixture(scope="module")
def board(browser: Any, hub: HubProcess) -> Iterator[Any]:
    with live_page(browser, f"{hub.url}/board") as page:
        yield page


def card(order: dict[str, Any]) -> str:
    return f'#tickets li.ticket[data-order="{order["id"]}"]'


def shown_orders(page: Any) -> list[int]:
    ids = page.eval_on_selector_all("#tickets li.ticket", "l => l.map(n => n.dataset.order)")
    return [int(x) for x in ids]


def test_paid_order_appears_on_the_grill_screen_within_a_second(
    kds: Any, board: Any, till: Api, session_id: int
) -> None:
    order = paid_order(till, session_id, (GRILL_BURGER, "2"), (BAR_ESPRESSO, "1"))
    kds.wait_for_selector(card(order), timeout=1000)
    text = kds.inner_text(card(order))
    assert f"#{order['number']}" in text
    assert "Classic Burger" in text and "2\N{MULTIPLICATION SIGN}" in text
    assert "Espresso" not in text  # the bar's line is on the bar's screen
    # The board lists it as preparing, by number only.
    board.wait_for_selector(f'#preparing li[data-number="{order["number"]}"]', timeout=1000)


def test_bump_moves_the_order_to_the_ready_column_and_recall_brings_it_back(
    kds: Any, board: Any, till: Api, session_id: int
) -> None:
    order = paid_order(till, session_id, (GRILL_BURGER, "1"))
    kds.wait_for_selector(card(order), timeout=1000)
    kds.click(f"{card(order)} button.bump")
    kds.wait_for_selector(card(order), state="detached", timeout=1000)
    ready = f'#ready li[data-number="{order["number"]}"]'
    board.wait_for_selector(ready, timeout=1000)
    assert board.locator(f'#preparing li[data-number="{order["number"]}"]').count() == 0
    # The board carries no amounts and no names: only numbers.
    board_text = board.inner_text("main")
    assert "Burger" not in board_text and order["amount_total"] not in board_text
    assert till.get(f"/api/v1/orders/{order['id']}").json()["state"] == "ready"
    shot(board, "board-1280x800")

    kds.click("#recall")
    kds.wait_for_selector(card(order), timeout=1000)
    board.wait_for_selector(f'#preparing li[data-number="{order["number"]}"]', timeout=1000)
    assert till.get(f"/api/v1/orders/{order['id']}").json()["state"] == "preparing"


def test_a_ready_number_leaves_the_board_when_collected_or_after_the_ready_time(
    kds: Any, board: Any, till: Api, session_id: int
) -> None:
    collected, forgotten = (paid_order(till, session_id, (GRILL_BURGER, "1")) for _ in range(2))
    for order in (collected, forgotten):
        kds.wait_for_selector(card(order), timeout=1000)
        kds.click(f"{card(order)} button.bump")
        board.wait_for_selector(f'#ready li[data-number="{order["number"]}"]', timeout=1000)
    assert till.fire(collected["id"], "complete").status_code == 200
    board.wait_for_selector(
        f'li[data-number="{collected["number"]}"]', state="detached", timeout=1000
    )
    # Nobody came for the other: it goes after EDGEHUB_BOARD_READY_SECONDS (4 s here).
    board.wait_for_selector(
        f'li[data-number="{forgotten["number"]}"]', state="detached", timeout=6000
    )
    assert forgotten["number"] not in [
        r["number"] for r in till.http.get("/api/v1/board").json()["ready"]
    ]


def test_the_hub_restarting_loses_no_ticket(
    kds: Any, hub: HubProcess, till: Api, session_id: int
) -> None:
    before = paid_order(till, session_id, (GRILL_BURGER, "1"))
    kds.wait_for_selector(card(before), timeout=1000)
    hub.stop()
    kds.wait_for_selector("#link[data-state=reconnecting]", timeout=2000)
    hub.start()
    after = paid_order(till, session_id, (GRILL_BURGER, "2"))
    kds.wait_for_selector("#link[data-state=live]", timeout=8000)
    kds.wait_for_selector(card(after), timeout=2000)
    shown = shown_orders(kds)
    assert len(shown) == len(set(shown)) and before["id"] in shown


def test_a_dropped_socket_loses_no_ticket_and_shows_none_twice(
    kds: Any, till: Api, session_id: int
) -> None:
    before = paid_order(till, session_id, (GRILL_BURGER, "1"))
    kds.wait_for_selector(card(before), timeout=1000)
    kds.evaluate("kds.live.drop(1500)")
    kds.wait_for_selector("#link[data-state=reconnecting]", timeout=1000)
    shot(kds, "kds-reconnecting-1280x800")
    # While the screen is away: new tickets, and one already shown changes.
    missed = [paid_order(till, session_id, (GRILL_BURGER, "3")) for _ in range(2)]
    assert till.fire(before["id"], "start").status_code == 200
    kds.wait_for_selector("#link[data-state=live]", timeout=5000)
    for order in missed:
        kds.wait_for_selector(card(order), timeout=1000)
    kds.wait_for_selector(f"{card(before)} button.start[disabled]", timeout=1000)
    expected = [
        t["id"]
        for t in till.get("/api/v1/kitchen/tickets?station=grill", as_="kitchen").json()["tickets"]
    ]
    shown = shown_orders(kds)
    assert sorted(shown) == sorted(expected)
    assert len(shown) == len(set(shown))

    # A reload restores the same view (token and stations are kept by the tab).
    kds.reload()
    kds.wait_for_selector("#link[data-state=live]", timeout=5000)
    assert shown_orders(kds) == shown


def test_tickets_age_through_the_station_colours_and_all_day_counts_them(
    kds: Any, till: Api, session_id: int
) -> None:
    kds.click("#alldayToggle")
    order = paid_order(till, session_id, (GRILL_BURGER, "4"))
    kds.wait_for_selector(f"{card(order)}.fresh", timeout=1000)
    shot(kds, "kds-1280x800")
    kds.wait_for_selector(f"{card(order)}.warn", timeout=3500)  # grill: amber after 2 s
    shot(kds, "kds-ageing-1280x800")
    kds.wait_for_selector(f"{card(order)}.late", timeout=3500)  # red after 4 s
    burgers = kds.inner_text("#allday-list")
    tickets = till.get("/api/v1/kitchen/tickets?station=grill", as_="kitchen").json()["tickets"]
    open_burgers = sum(
        int(float(line["qty"]))
        for t in tickets
        for line in t["lines"]
        if line["station"] == "grill"
    )
    assert burgers.split()[0] == str(open_burgers) and "Classic Burger" in burgers


def test_new_tickets_move_nothing_on_screen_and_the_keyboard_reaches_the_actions(
    kds: Any, till: Api, session_id: int
) -> None:
    kds.evaluate(
        """() => {
            window.shifted = 0;
            new PerformanceObserver((list) => {
                for (const e of list.getEntries()) if (!e.hadRecentInput) window.shifted += e.value;
            }).observe({ type: "layout-shift" });
        }"""
    )
    arrivals = [paid_order(till, session_id, (GRILL_BURGER, "1")) for _ in range(3)]
    for order in arrivals:
        kds.wait_for_selector(card(order), timeout=1000)
    kds.wait_for_timeout(300)
    assert kds.evaluate("window.shifted") == 0  # Layout Instability API: no shift at all
    # Every action is a real button: focus and Enter bump a ticket, as a tap does.
    kds.focus(f"{card(arrivals[0])} button.bump")
    kds.keyboard.press("Enter")
    kds.wait_for_selector(card(arrivals[0]), state="detached", timeout=1000)
    kds.click("header h1")  # the start of the page for Tab
    kds.keyboard.press("Tab")
    assert kds.evaluate("document.activeElement.id") == "alldayToggle"


def test_a_wall_screen_opens_with_a_device_token(browser: Any, hub: HubProcess) -> None:
    """No PIN typed on a wall-mounted screen: a device user's token in the address's fragment."""
    added = run_cli(hub.db, "user", "add", "kds-wall", "--role", "device", "--pin", "4321")
    assert added.returncode == 0, added.stderr
    issued = run_cli(hub.db, "token", "kds-wall")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    context = browser.new_context(viewport=TABLET)
    try:
        page = context.new_page()
        page.goto(f"{hub.url}/kds?station=grill#token={token}")
        page.wait_for_selector("#link[data-state=live]", timeout=5000)
        page.wait_for_selector("#tickets li.ticket", timeout=2000)
        assert page.is_hidden("#login")
        assert "token" not in page.url  # taken out of the address bar at once
    finally:
        context.close()


FRIES = 7  # a grill item no other test of this module orders


def test_86_an_item_reaches_the_tills_as_a_catalogue_change(
    kds: Any, hub: HubProcess, till: Api, session_id: int
) -> None:
    url = hub.url.replace("http", "ws") + "/ws?client=till-86"
    with connect(url) as till_ws:
        till_ws.send(json.dumps({"type": "auth", "token": till.token("ana")}))
        till_ws.send(json.dumps({"type": "subscribe", "room": f"session:{session_id}"}))
        assert json.loads(till_ws.recv(timeout=5))["type"] == "subscribed"
        kds.click("#itemsToggle")
        item = f'#items-list li[data-product="{FRIES}"]'
        kds.click(f"{item} button.toggle86")
        kds.wait_for_selector(f'{item} button.toggle86[aria-pressed="true"]', timeout=2000)
        frame = next_event(till_ws, "catalog.updated")
        assert frame["data"]["product"]["id"] == FRIES
        assert frame["data"]["product"]["available"] is False
        # The till can no longer sell it...
        order = till.create(session_id, [{"product_id": FRIES, "qty": "1"}])
        assert till.fire(order["id"], "validate").status_code == 422
        shot(kds, "kds-86-1280x800")
        # ...until the kitchen puts it back on.
        kds.click(f"{item} button.toggle86")
        kds.wait_for_selector(f'{item} button.toggle86[aria-pressed="false"]', timeout=2000)
        assert next_event(till_ws, "catalog.updated")["data"]["product"]["available"] is True
    kds.click("#itemsToggle")
    # Only kitchen items: a mug is no kitchen's to 86.
    body = {"available": False}
    refused = till.post("/api/v1/kitchen/products/30/availability", body, as_="kitchen")
    assert refused.status_code == 404


def next_event(ws: Any, name: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=5))
        if frame.get("event") == name:
            return frame


def test_screenshots_at_phone_width(browser: Any, hub: HubProcess, kds: Any) -> None:
    """Both screens laid out for a phone: one column, nothing cut off sideways."""
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{hub.url}/kds?station=grill")
        sign_in(page, "kitchen", "5555")
        page.wait_for_selector("#tickets li.ticket", timeout=5000)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        shot(page, "kds-phone")
        page.goto(f"{hub.url}/board")
        page.wait_for_selector("#link[data-state=live]", timeout=5000)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "board-phone")
    finally:
        context.close()
