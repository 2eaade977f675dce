"""Events reach the rooms they concern, live and replayed: in order, no gap, no duplicate."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.realtime.conftest import FAST_WS, demo_db, log_head, room_seqs, write_orders
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess
from tests.support.ws_client import events, quiet, recv, send, subscribe, ws_client

pytestmark = pytest.mark.anyio


async def test_event_frame_carries_the_log_record(rt_hub: HubProcess, rt_api: Api) -> None:
    """A till must get the very record GET /events serves, tagged with the room it joined."""
    session_id = rt_api.open_session()
    room = f"session:{session_id}"
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        await subscribe(ws, room)
        order = await asyncio.to_thread(rt_api.create, session_id)
        (frame,) = await events(ws, 1)
    record = rt_api.get(f"/api/v1/events?since={frame['seq'] - 1}&limit=1", "marco").json()
    assert frame == {"type": "event", "room": room, **record["items"][0]}
    assert frame["event"] == "order.created"
    assert frame["data"] == order


async def test_kitchen_rooms_get_an_order_once_paid(rt_hub: HubProcess, rt_api: Api) -> None:
    """A grill screen must see paid grill orders, and a bar screen must not."""
    session_id = rt_api.open_session()
    kitchen = rt_api.token("kitchen")
    async with (
        ws_client(rt_hub.url, token=kitchen) as grill,
        ws_client(rt_hub.url, token=kitchen) as bar,
    ):
        await subscribe(grill, "kitchen:grill")
        await subscribe(bar, "kitchen:bar")
        order = await asyncio.to_thread(rt_api.create, session_id)  # a Classic Burger: grill
        assert (await asyncio.to_thread(rt_api.fire, order["id"], "validate")).status_code == 200
        assert await quiet(grill) == []  # a draft or unpaid order is not the kitchen's yet
        assert (await asyncio.to_thread(rt_api.pay_exact, order)).status_code == 200
        frames = await events(grill, 2)
        assert [f["event"] for f in frames] == ["order.updated", "payment.processed"]
        assert {f["room"] for f in frames} == {"kitchen:grill"}
        assert frames[0]["data"]["state"] == "paid"
        assert await quiet(bar) == []


async def test_resume_after_disconnect_replays_exactly_what_was_missed(
    rt_hub: HubProcess, rt_api: Api
) -> None:
    """A till that lost Wi-Fi must catch up on every order it missed, once, in order."""
    session_id = rt_api.open_session()
    room = f"session:{session_id}"
    token = rt_api.token("ana")
    async with ws_client(rt_hub.url, token=token) as ws:
        await subscribe(ws, room)
        await asyncio.to_thread(rt_api.create, session_id)
        (last,) = await events(ws, 1)
    seen = last["seq"]

    for _ in range(3):  # placed while the till is away
        order = await asyncio.to_thread(rt_api.create, session_id)
    await asyncio.to_thread(rt_api.fire, order["id"], "validate")
    await asyncio.to_thread(rt_api.pay_exact, order)
    missed = room_seqs(rt_hub.db, room, after=seen)
    assert len(missed) == 6  # 3 created, validated, paid, payment.processed

    async with ws_client(rt_hub.url, token=token) as ws:
        head = (await subscribe(ws, room, since=seen))["seq"]
        assert head >= missed[-1]
        replayed = await events(ws, len(missed))
        assert [f["seq"] for f in replayed] == missed
        assert all(f["room"] == room for f in replayed)
        live = await asyncio.to_thread(rt_api.create, session_id)
        (frame,) = await events(ws, 1)
        assert frame["data"]["uuid"] == live["uuid"]
        assert frame["seq"] > missed[-1]
        assert await quiet(ws) == []


def _keep_ordering(base_url: str, session_id: int, stop: Any) -> None:
    api = Api(base_url)
    while not stop.is_set():
        api.create(session_id)
    api.close()


async def test_replay_racing_live_writes_has_no_gap_or_duplicate(
    rt_hub: HubProcess, rt_api: Api
) -> None:
    """Orders placed while a replay is read must come exactly once, wherever they fall."""
    session_id = rt_api.open_session()
    room = f"session:{session_id}"
    write_orders(rt_hub.db, session_id, 2000)  # ten replay pages
    token = rt_api.token("ana")
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    writers = [
        context.Process(target=_keep_ordering, args=(rt_hub.url, session_id, stop))
        for _ in range(2)
    ]
    async with contextlib.AsyncExitStack() as stack:
        for writer in writers:
            writer.start()
        try:
            deadline = time.monotonic() + 20
            while len(room_seqs(rt_hub.db, room)) < 2030:  # the writers are up and ordering
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            clients = []
            for _ in range(4):  # subscribe at staggered moments of the write stream
                ws = await stack.enter_async_context(ws_client(rt_hub.url, token=token))
                await subscribe(ws, room, since=0)
                clients.append(ws)
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
        finally:
            stop.set()
            for writer in writers:
                await asyncio.to_thread(writer.join)
        expected = room_seqs(rt_hub.db, room)
        assert len(expected) > 2050
        for ws in clients:
            got = [f["seq"] for f in await events(ws, len(expected), within=30)]
            assert got == expected
            assert await quiet(ws) == []


async def test_event_committed_by_another_process_is_delivered(
    rt_hub: HubProcess, rt_api: Api
) -> None:
    """The sync agent and the bridge write to the same file: their events must reach tills."""
    session_id = rt_api.open_session()
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        await subscribe(ws, f"session:{session_id}")
        started = time.monotonic()
        (seq,) = await asyncio.to_thread(write_orders, rt_hub.db, session_id, 1)
        (frame,) = await events(ws, 1)
        assert frame["seq"] == seq
        assert frame["event"] == "order.created"
        assert time.monotonic() - started < 1.0  # found by the poll, not by luck


async def test_subscribe_without_since_starts_at_the_head(rt_hub: HubProcess, rt_api: Api) -> None:
    """Joining a room means 'from now on': history is only replayed when asked for."""
    session_id = rt_api.open_session()
    rt_api.create(session_id)
    before = log_head(rt_hub.db)
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        frame = await subscribe(ws, f"session:{session_id}")
        assert frame["seq"] >= before
        assert await quiet(ws) == []


async def test_unsubscribe_stops_delivery(rt_hub: HubProcess, rt_api: Api) -> None:
    """A till that leaves a session's room must stop paying for its traffic."""
    session_id = rt_api.open_session()
    room = f"session:{session_id}"
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        await subscribe(ws, room)
        await send(ws, type="unsubscribe", room=room)
        assert await recv(ws) == {"type": "unsubscribed", "room": room}
        await asyncio.to_thread(rt_api.create, session_id)
        assert await quiet(ws) == []
        await send(ws, type="unsubscribe", room=room)
        assert (await recv(ws))["error"] == "not_subscribed"


async def test_each_joined_room_gets_its_own_frame(rt_hub: HubProcess, rt_api: Api) -> None:
    """A screen in two rooms an event concerns gets it in each, and the seq tells it apart."""
    session_id = rt_api.open_session()
    body = rt_api.order_body(session_id)
    rooms = {f"session:{session_id}", f"order:{body['uuid']}"}
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        for room in sorted(rooms):
            await subscribe(ws, room)
        r = await asyncio.to_thread(rt_api.post, "/api/v1/orders", body)
        assert r.status_code == 201
        frames = await events(ws, 2)
        assert {f["room"] for f in frames} == rooms
        assert frames[0]["seq"] == frames[1]["seq"]
        assert await quiet(ws) == []


async def test_since_beyond_the_log_gets_a_reset(rt_hub: HubProcess, rt_api: Api) -> None:
    """A till holding seqs of another database (a restored hub) must be told to reload."""
    session_id = rt_api.open_session()
    room = f"session:{session_id}"
    head = log_head(rt_hub.db)
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        await send(ws, type="subscribe", room=room, since=head + 1000)
        reset = await recv(ws)
        assert reset["type"] == "error"
        assert reset["error"] == "reset"
        assert reset["room"] == room
        subscribed = await recv(ws)
        assert subscribed["type"] == "subscribed"
        assert reset["seq"] == subscribed["seq"]
        order = await asyncio.to_thread(rt_api.create, session_id)
        (frame,) = await events(ws, 1)
        assert frame["data"]["uuid"] == order["uuid"]


async def test_since_older_than_the_pruned_log_gets_a_reset(tmp_path: Path) -> None:
    """Once old events are pruned, a replay would have a hole: the client must reload instead."""
    db_path = demo_db(tmp_path / "edgehub.db")
    hub = HubProcess(db_path, **FAST_WS).start()
    api = Api(hub.url)
    try:
        session_id = api.open_session()
        room = f"session:{session_id}"
        for _ in range(3):
            api.create(session_id)
        seqs = room_seqs(db_path, room)
        conn = sqlite3.connect(db_path)
        with conn:
            conn.execute("DELETE FROM events WHERE seq <= ?", (seqs[1],))  # a pruning job
        conn.close()
        async with ws_client(hub.url, token=api.token("ana")) as ws:
            await send(ws, type="subscribe", room=room, since=seqs[0])
            reset = await recv(ws)
            assert (reset["type"], reset["error"], reset["since"]) == ("error", "reset", seqs[0])
            assert (await recv(ws))["type"] == "subscribed"
            assert await quiet(ws) == []  # nothing replayed after a reset
            # From the oldest seq still held, the replay is whole again.
            await subscribe(ws, room, since=seqs[1])
            assert [f["seq"] for f in await events(ws, 2)] == seqs[2:]
    finally:
        api.close()
        hub.stop()
