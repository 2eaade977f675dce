"""Catalogue changes reach the tills through their session rooms, on a served hub."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from tests.realtime.conftest import room_seqs
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess, run_cli
from tests.support.ws_client import events, quiet, subscribe, ws_client

pytestmark = pytest.mark.anyio

PRODUCT = 1


def reprice(api: Api, product_id: int = PRODUCT) -> dict[str, Any]:
    """A manager raises a product's price by 0.10; the product as the hub answers it."""
    path = f"/api/v1/products/{product_id}"
    price = Decimal(api.get(path, "marco").json()["price"]) + Decimal("0.10")
    r = api.patch(path, {"price": str(price)}, "marco")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def next_catalog_event(ws: ClientConnection) -> dict[str, Any]:
    """The next ``catalog.updated`` frame; ``store`` carries every other event too."""
    while True:
        (frame,) = await events(ws, 1)
        if frame["event"] == "catalog.updated":
            return frame


async def test_till_hears_a_price_change_in_its_session_room(
    rt_hub: HubProcess, rt_api: Api
) -> None:
    """A till sells from its own copy of the catalogue: it must hear a new price at once."""
    room = f"session:{rt_api.open_session('ana')}"
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        await subscribe(ws, room)
        product = await asyncio.to_thread(reprice, rt_api)
        (frame,) = await events(ws, 1)
        assert await quiet(ws) == []
    assert (frame["room"], frame["event"]) == (room, "catalog.updated")
    data = frame["data"]
    assert (data["change"], data["products"], data["listings"]) == ("price", [PRODUCT], False)
    assert data["product"] == product


async def test_till_back_from_a_disconnect_gets_the_change_it_missed(
    rt_hub: HubProcess, rt_api: Api
) -> None:
    """A till offline during a price change must not go on selling at the old price."""
    room = f"session:{rt_api.open_session('ana')}"
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        seen = (await subscribe(ws, room))["seq"]
    product = await asyncio.to_thread(reprice, rt_api)
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        await subscribe(ws, room, since=seen)
        (frame,) = await events(ws, 1)
        assert await quiet(ws) == []
    assert frame["event"] == "catalog.updated"
    assert frame["data"]["product"] == product


async def test_till_does_not_hear_staff_changes(rt_hub: HubProcess, rt_api: Api) -> None:
    """Who else works here is the managers' business: a staff change stays in ``store``."""
    room = f"session:{rt_api.open_session('ana')}"
    added = await asyncio.to_thread(
        run_cli, rt_hub.db, "user", "add", "zoe", "--role", "cashier", "--pin", "2468"
    )
    assert added.returncode == 0, added.stderr
    async with (
        ws_client(rt_hub.url, token=rt_api.token("ana")) as till,
        ws_client(rt_hub.url, token=rt_api.token("marco")) as office,
    ):
        start = (await subscribe(till, room))["seq"]
        await subscribe(office, "store")
        disabled = await asyncio.to_thread(run_cli, rt_hub.db, "user", "disable", "zoe")
        assert disabled.returncode == 0, disabled.stderr
        # Written by another process: the hub's tailer finds it, then fans it out to
        # every room of the row at once, so once the office has it the till would too.
        staff = await next_catalog_event(office)
        assert staff["data"]["change"] == "user"
        assert await quiet(till) == []
        await asyncio.to_thread(reprice, rt_api)
        (price,) = await events(till, 1)
    assert price["data"]["change"] == "price" and price["seq"] > staff["seq"]
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as till:
        await subscribe(till, room, since=start)
        replayed = await events(till, 1)
        assert await quiet(till) == []
    assert [f["seq"] for f in replayed] == [price["seq"]]


async def test_closed_session_room_gets_no_new_catalogue_events(
    rt_hub: HubProcess, rt_api: Api
) -> None:
    """A closed till sells nothing: its room stays as it was when it closed."""
    closed = rt_api.open_session("ana")
    r = rt_api.post(f"/api/v1/sessions/{closed}/close", {"closing_cash": "100.00"})
    assert r.status_code == 200, r.text
    open_room, closed_room = f"session:{rt_api.open_session('ana')}", f"session:{closed}"
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        # Ana opened the closed session herself, so she may still watch its room.
        closed_at = (await subscribe(ws, closed_room))["seq"]
        await subscribe(ws, open_room)
        await asyncio.to_thread(reprice, rt_api)
        (frame,) = await events(ws, 1)
        assert await quiet(ws) == []
    assert (frame["room"], frame["event"]) == (open_room, "catalog.updated")
    assert room_seqs(rt_hub.db, closed_room, after=closed_at) == []
