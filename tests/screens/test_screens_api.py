"""What the screens read, over plain HTTP and /ws: the board's room and route carry only
numbers and states and need no login; the kitchen's tickets and bumps; the pages' files."""

from __future__ import annotations

import httpx
import pytest

from hub.mqtt_topics import is_name
from hub.settings import Settings
from tests.screens.conftest import BAR_ESPRESSO, GRILL_BURGER, paid_order
from tests.support import local_http
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess
from tests.support.ws_client import events, recv, send, subscribe, ws_client


@pytest.fixture(scope="module")
def session_id(till: Api) -> int:
    return till.open_session()


@pytest.mark.anyio
async def test_the_board_room_needs_no_token_and_carries_only_numbers_and_states(
    hub: HubProcess, till: Api, session_id: int
) -> None:
    async with ws_client(hub.url, view="board") as ws:
        head = (await subscribe(ws, "board"))["seq"]
        order = paid_order(till, session_id, (GRILL_BURGER, "1"))
        assert till.fire(order["id"], "start", as_="kitchen").status_code == 200  # same place
        assert till.fire(order["id"], "ready", as_="kitchen").status_code == 200
        assert till.fire(order["id"], "complete", as_="ana").status_code == 200
        frames = await events(ws, 3)
        assert [f["data"] for f in frames] == [
            {"number": order["number"], "state": "preparing"},
            {"number": order["number"], "state": "ready"},
            {"number": order["number"], "state": "gone"},
        ]
        assert {f["event"] for f in frames} == {"board.updated"}
        # Nothing else reaches a board view, whatever it asks for.
        for room in ("store", "devices", "kitchen", "kitchen:grill", f"session:{session_id}"):
            await send(ws, type="subscribe", room=room)
            refusal = await recv(ws)
            assert refusal["type"] == "error" and refusal["error"] == "forbidden_room", refusal

    # A board that blinked resumes with since and gets the same three, once.
    async with ws_client(hub.url, view="board") as ws:
        await subscribe(ws, "board", since=head)
        replayed = await events(ws, 3)
        assert [f["data"]["state"] for f in replayed] == ["preparing", "ready", "gone"]


@pytest.mark.anyio
async def test_a_board_view_with_a_bad_token_is_refused(
    hub: HubProcess,
) -> None:
    async with ws_client(hub.url, view="board", token="forged") as ws:
        # A token given is checked as ever: no falling back to the board view.
        with pytest.raises(Exception, match="4401"):
            await recv(ws)


def test_board_route_is_public_and_holds_only_numbers(
    hub: HubProcess, till: Api, session_id: int
) -> None:
    preparing = paid_order(till, session_id, (GRILL_BURGER, "1"))
    ready = paid_order(till, session_id, (BAR_ESPRESSO, "2"))
    for event in ("start", "ready"):
        assert till.fire(ready["id"], event, as_="kitchen").status_code == 200
    shop_only = paid_order(till, session_id, (29, "1"))  # a mug: nothing to prepare
    r = local_http.get(f"{hub.url}/api/v1/board")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"preparing", "ready", "ready_seconds", "seq"}
    assert preparing["number"] in body["preparing"]
    assert [x["number"] for x in body["ready"]] == [ready["number"]]
    assert set(body["ready"][0]) == {"number", "since"}
    assert shop_only["number"] not in body["preparing"]


def test_kitchen_tickets_and_bumps(hub: HubProcess, till: Api, session_id: int) -> None:
    order = paid_order(till, session_id, (GRILL_BURGER, "1"), (BAR_ESPRESSO, "1"))
    tickets = till.get("/api/v1/kitchen/tickets?station=grill", as_="kitchen").json()
    assert order["id"] in [t["id"] for t in tickets["tickets"]]
    assert tickets["ages"] == {"grill": {"warn": 300.0, "late": 600.0}}

    def bump(station: str, action: str, as_: str = "kitchen") -> httpx.Response:
        body = {"order_uuid": order["uuid"], "station": station, "action": action}
        return till.post("/api/v1/kitchen/bumps", body, as_=as_)

    assert bump("grill", "ready", as_="ana").status_code == 403  # cashiers do not bump
    refused = bump("cold", "ready")
    assert refused.status_code == 409 and refused.json()["error"] == "station_not_in_order"
    assert bump("grill", "eat").status_code in (400, 422)
    # The grill's part is done: off the grill's screen, the order waits for the bar.
    done = bump("grill", "ready")
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "preparing" and done.json()["ready_stations"] == ["grill"]
    grill = till.get("/api/v1/kitchen/tickets?station=grill", as_="kitchen").json()
    assert order["id"] not in [t["id"] for t in grill["tickets"]]
    bar = till.get("/api/v1/kitchen/tickets?station=bar", as_="kitchen").json()
    assert order["id"] in [t["id"] for t in bar["tickets"]]
    assert bump("bar", "ready").json()["state"] == "ready"
    assert till.get("/api/v1/kitchen/tickets?station=grill", as_="ana").status_code == 403
    assert till.get("/api/v1/kitchen/tickets", as_="kitchen").status_code == 422


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/", "text/html"),
        ("/dashboard", "text/html"),
        ("/kds", "text/html"),
        ("/board", "text/html"),
        ("/screens/common.js", "text/javascript"),
        ("/screens/screens.css", "text/css"),
    ],
)
def test_pages_and_their_files_come_from_the_hub(hub: HubProcess, path: str, kind: str) -> None:
    r = local_http.get(hub.url + path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(kind)
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "http://" not in r.text and "https://" not in r.text  # nothing from outside


@pytest.mark.parametrize("name", ["nope.js", "..%2Fsettings.py", ".hidden.js", "kds.py"])
def test_no_other_file_is_served(hub: HubProcess, name: str) -> None:
    assert local_http.get(f"{hub.url}/screens/{name}").status_code == 404


def test_station_ages_setting() -> None:
    settings = Settings(kds_station_ages="grill=240:480, bar = 60:120")
    assert settings.screens.kds_ages("grill") == (240.0, 480.0)
    assert settings.screens.kds_ages("bar") == (60.0, 120.0)
    assert settings.screens.kds_ages("cold") == (300.0, 600.0)
    with pytest.raises(ValueError, match="station=warn_seconds:late_seconds"):
        Settings(kds_station_ages="grill=240")


def test_a_station_any_device_may_be_registered_to_can_be_asked_for(till: Api) -> None:
    """``?station=`` takes what a device's station may be (one MQTT topic level, 1-64 of
    A-Z a-z 0-9 _ -): it once stopped at 32, so a longer registered station had no screen."""
    longest = "s" * 64
    assert is_name(longest)
    tickets = till.get(f"/api/v1/kitchen/tickets?station={longest}", as_="kitchen")
    assert tickets.status_code == 200, tickets.text
    assert tickets.json()["tickets"] == []
    too_long = till.get(f"/api/v1/kitchen/tickets?station={longest}s", as_="kitchen")
    assert too_long.status_code in (400, 422)
