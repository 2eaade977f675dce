"""Slow and dead clients: dropped on time, and never allowed to slow anyone else down."""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.uri import parse_uri

from hub.clock import parse_iso
from tests.realtime.conftest import demo_db, realtime_stats, room_seqs
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess
from tests.support.ws_client import events, quiet, subscribe, ws_client, ws_url

pytestmark = pytest.mark.anyio

QUEUE_FRAMES = 8
# 200 lines with long notes make an order event of ~145 kB: seventy of them fill every
# buffer between the hub and a reader that stopped (kernel send buffers grow to 4 MB).
BIG_ORDER = [{"product_id": 1 + i % 25, "qty": "1", "note": "x" * 500} for i in range(200)]


@pytest.fixture(scope="module")
def small_queue_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A hub that gives up on a client 8 frames behind (pings stay slow: 40 s stall)."""
    db = demo_db(tmp_path_factory.mktemp("slow") / "edgehub.db")
    hub = HubProcess(db, EDGEHUB_WS_QUEUE_FRAMES=str(QUEUE_FRAMES)).start()
    yield hub
    hub.stop()


async def _until(check: Any, within: float) -> float:
    """Seconds until ``check()`` holds (fails after ``within``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "timed out"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_slow_reader_is_closed_4408_while_others_keep_up(
    small_queue_hub: HubProcess,
) -> None:
    """One stalled KDS must not delay the tills: it is cut off (4408), they stay fast."""
    hub = small_queue_hub
    api = Api(hub.url)
    session_id = api.open_session()
    room = f"session:{session_id}"
    token = api.token("ana")
    url = ws_url(hub.url, token=token)
    slow = await connect(url, max_queue=1)  # stops reading the socket after one frame
    try:
        await slow.send(json.dumps({"type": "subscribe", "room": room}))
        async with ws_client(hub.url, token=token) as fast:
            await subscribe(fast, room)
            latencies = []
            for _ in range(70):
                order = await asyncio.to_thread(api.create, session_id, BIG_ORDER)
                (frame,) = await events(fast, 1)
                # From the event's commit (its ts) to the till: the fan-out's own latency.
                latencies.append(time.time() - parse_iso(frame["ts"]).timestamp())
                assert frame["data"]["uuid"] == order["uuid"]
        # Only now does the slow one read: what was in flight, then the close.
        seen, start = [], -1
        try:
            async with asyncio.timeout(20):
                async for message in slow:
                    frame = json.loads(message)
                    if frame["type"] == "subscribed":
                        start = frame["seq"]
                    elif frame["type"] == "event":
                        seen.append(frame["seq"])
        except ConnectionClosed:
            pass
        assert slow.close_code == 4408
    finally:
        await slow.close()
    assert statistics.quantiles(latencies, n=20)[-1] < 0.050  # p95
    expected = room_seqs(hub.db, room, after=start)
    assert 0 < len(seen) < len(expected)
    assert seen == expected[: len(seen)]  # what it got, it got in order and whole
    # Resuming with since gets exactly the rest.
    async with ws_client(hub.url, token=token) as ws:
        await subscribe(ws, room, since=seen[-1])
        rest = await events(ws, len(expected) - len(seen))
        assert [f["seq"] for f in rest] == expected[len(seen) :]
        assert await quiet(ws) == []
    api.close()


def _silent_client(url: str, subscribe_to: str) -> socket.socket:
    """Handshake, subscribe, then nothing ever again: no reads, no pongs. A dead peer."""
    uri = parse_uri(url)
    protocol = ClientProtocol(uri)
    sock = socket.create_connection((uri.host, uri.port))
    protocol.send_request(protocol.connect())
    sock.sendall(b"".join(protocol.data_to_send()))
    while protocol.state is State.CONNECTING:
        protocol.receive_data(sock.recv(65536))
    assert protocol.state is State.OPEN
    protocol.send_text(json.dumps({"type": "subscribe", "room": subscribe_to}).encode())
    sock.sendall(b"".join(protocol.data_to_send()))
    return sock


async def test_dead_peer_is_dropped_after_missed_pings(rt_hub: HubProcess, rt_api: Api) -> None:
    """A till unplugged mid-shift must leave presence and its rooms (here: 1 s + 1 s pings)."""
    session_id = rt_api.open_session()
    baseline = realtime_stats(rt_api)["clients"]
    url = ws_url(rt_hub.url, token=rt_api.token("ana"), client="unplugged")
    sock = await asyncio.to_thread(_silent_client, url, f"session:{session_id}")
    try:
        await _until(lambda: realtime_stats(rt_api)["clients"] == baseline + 1, 5)
        took = await _until(lambda: realtime_stats(rt_api)["clients"] == baseline, 10)
        assert took < 5  # ping after 1 s, no pong for 1 s: gone well within 60 s at 20 s + 20 s
        devices = {d["id"]: d for d in rt_api.get("/api/v1/devices").json()["items"]}
        assert devices["user:3/unplugged"]["online"] is False
    finally:
        sock.close()


async def test_every_connection_and_subscription_is_cleaned_up(
    rt_hub: HubProcess, rt_api: Api
) -> None:
    """Tills come and go all day: whatever way they leave, nothing may stay behind."""
    session_id = rt_api.open_session()
    token = rt_api.token("marco")
    before = realtime_stats(rt_api)
    clients = []
    for _ in range(20):
        ws = await connect(ws_url(rt_hub.url, token=token), max_queue=None)
        for room in ("kitchen", f"session:{session_id}", "store"):  # store gets chatty: last
            await subscribe(ws, room)
        clients.append(ws)
    assert realtime_stats(rt_api)["subscriptions"] == before["subscriptions"] + 60
    for i, ws in enumerate(clients):
        if i % 2:
            await ws.close()
        else:
            ws.transport.abort()  # a reset, no close frame
    await _until(lambda: realtime_stats(rt_api)["clients"] == before["clients"], 10)
    after = realtime_stats(rt_api)
    assert (after["subscriptions"], after["rooms"]) == (before["subscriptions"], before["rooms"])


async def test_presence_lists_each_client_and_announces_it(rt_hub: HubProcess, rt_api: Api) -> None:
    """The manager's screen must show which tills and displays are up, and when one left.

    Presence is announced in room ``devices``; ``store`` does not carry it, so a
    storm of ``store`` subscribers connecting costs each of them nothing.
    """
    kitchen = rt_api.token("kitchen")
    device_id = "user:4/kds-1"
    async with (
        ws_client(rt_hub.url, token=rt_api.token("marco")) as watcher,
        ws_client(rt_hub.url, token=rt_api.token("marco")) as store,
    ):
        await subscribe(watcher, "devices")
        await subscribe(store, "store")
        async with (
            ws_client(rt_hub.url, token=kitchen, client="kds-1") as one,
            ws_client(rt_hub.url, token=kitchen, client="kds-1") as again,
        ):
            await subscribe(one, "kitchen")
            await subscribe(again, "kitchen")
            online = await _status_of(watcher, device_id)
            items = rt_api.get("/api/v1/devices").json()["items"]
            device = next(d for d in items if d["id"] == device_id)
            assert device["online"] is True
            assert device["kind"] == "display"
            assert device["user"] == {"id": 4, "name": "Kitchen", "role": "kitchen"}
            assert {"station", "last_seen", "paper", "pending_jobs"} <= device.keys()
        offline = await _status_of(watcher, device_id)
        # Two sockets, one device: one "online", one "offline", nothing in between.
        assert [f for f in await quiet(watcher) if f["data"]["id"] == device_id] == []
        assert offline["room"] == "devices"
        assert [f for f in await quiet(store) if f["event"] == "device.status"] == []
    assert (online["data"]["online"], offline["data"]["online"]) == (True, False)
    items = rt_api.get("/api/v1/devices").json()["items"]
    device = next(d for d in items if d["id"] == device_id)
    assert device["online"] is False
    assert device["last_seen"] == offline["data"]["last_seen"]


async def _status_of(ws: Any, device_id: str) -> dict[str, Any]:
    """The next device.status frame about ``device_id`` (others are skipped)."""
    while True:
        (frame,) = await events(ws, 1)
        if frame["event"] == "device.status" and frame["data"]["id"] == device_id:
            return frame
