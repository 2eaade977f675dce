"""Several hub workers on one database: every client sees every event, Redis or not."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from websockets.asyncio.client import ClientConnection

from tests.realtime.conftest import demo_db, login
from tests.support import local_http
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess
from tests.support.redis_server import PrivateRedis
from tests.support.ws_client import events, subscribe, ws_client

pytestmark = pytest.mark.anyio

SHARED_REDIS = "redis://127.0.0.1:6379/0"


def _shared_redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(SHARED_REDIS, socket_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _shared_redis_up(), reason="no Redis on 127.0.0.1:6379")


def unique_store() -> str:
    """A store code of its own, so the test has its own channel edgehub:{store}:events."""
    return f"t{uuid.uuid4().hex[:12]}"


def stats(url: str) -> dict[str, Any]:
    """One worker's counters, on fresh connections (keep-alive would pin one worker)."""
    token = login(url, "marco", "9999")
    r = local_http.get(
        f"{url}/api/v1/realtime/stats",
        headers={"Authorization": f"Bearer {token}", "Connection": "close"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def online_clients(url: str) -> set[str]:
    """The client names GET /devices lists as online, asked on a fresh connection."""
    token = login(url, "marco", "9999")
    r = local_http.get(
        f"{url}/api/v1/devices",
        headers={"Authorization": f"Bearer {token}", "Connection": "close"},
    )
    assert r.status_code == 200, r.text
    return {d["client"] for d in r.json()["items"] if d["online"]}


async def until(check: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


@contextlib.contextmanager
def two_hubs(db: Path, **env: str) -> Iterator[tuple[HubProcess, HubProcess]]:
    """Two ``edgehub serve`` processes on different ports, one database file."""
    a = HubProcess(db, **env).start()
    try:
        b = HubProcess(db, **env).start()
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


async def _latencies(a: HubProcess, b: HubProcess, orders: int) -> list[float]:
    """A till on worker A; orders placed on worker B; seconds from POST to A's frame."""
    api_a, api_b = Api(a.url), Api(b.url)
    session_id = api_b.open_session()
    took = []
    async with ws_client(a.url, token=api_a.token("ana")) as ws:
        await subscribe(ws, f"session:{session_id}")
        for _ in range(orders):
            started = time.monotonic()
            order = await asyncio.to_thread(api_b.create, session_id)
            (frame,) = await events(ws, 1)
            took.append(time.monotonic() - started)
            assert frame["data"]["uuid"] == order["uuid"]
    api_a.close()
    api_b.close()
    return took


@needs_redis
async def test_redis_wakes_the_other_worker_at_once(tmp_path: Path) -> None:
    """With Redis, an order taken on one worker reaches tills on another without polling lag."""
    db = demo_db(tmp_path / "edgehub.db")
    env = {"EDGEHUB_REDIS_URL": SHARED_REDIS, "EDGEHUB_STORE": unique_store()}
    # A 3 s poll: only the Redis ring can explain sub-second delivery.
    with two_hubs(db, EDGEHUB_WS_POLL_INTERVAL="3", **env) as (a, b):
        await until(lambda: stats(a.url)["redis"] == stats(b.url)["redis"] == "ok", 10)
        took = await _latencies(a, b, 5)
    assert max(took) < 0.5, took


async def test_without_redis_the_other_worker_still_delivers(tmp_path: Path) -> None:
    """No Redis configured: tailing the shared file alone gets every event across."""
    db = demo_db(tmp_path / "edgehub.db")
    with two_hubs(db) as (a, b):
        assert stats(a.url)["redis"] == "off"
        took = await _latencies(a, b, 5)
    assert max(took) < 1.0, took  # a 0.1 s poll, plus the order's own write


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
async def test_redis_going_away_falls_back_to_polling_and_reconnects(tmp_path: Path) -> None:
    """Redis is a doorbell, never a dependency: killed, delivery goes on; back, it rings again."""
    server = PrivateRedis().start()
    db = demo_db(tmp_path / "edgehub.db")
    env = {"EDGEHUB_REDIS_URL": server.url, "EDGEHUB_WS_POLL_INTERVAL": "1"}
    try:
        with two_hubs(db, **env) as (a, b):
            await until(lambda: stats(a.url)["redis"] == stats(b.url)["redis"] == "ok", 10)
            assert max(await _latencies(a, b, 3)) < 0.5

            server.kill()
            await until(lambda: stats(a.url)["redis"] == stats(b.url)["redis"] == "down", 10)
            down = await _latencies(a, b, 3)
            assert max(down) < 2.0, down  # found by the 1 s poll

            server.start()
            await until(lambda: stats(a.url)["redis"] == stats(b.url)["redis"] == "ok", 20)
            back = await _latencies(a, b, 5)
            assert max(back) < 0.5, back
    finally:
        server.kill()


async def spread_tills(
    hub: HubProcess, stack: contextlib.AsyncExitStack, room: str
) -> dict[str, tuple[ClientConnection, str]]:
    """Tills connected until both workers hold some: name -> (socket, worker id).

    Which worker accepts a connection is the kernel's choice; the worker is
    read from the device.status event each connection causes.
    """
    seen: set[str] = set()
    # HubProcess.start() returns when the first worker answers; wait for the second.
    await until(lambda: seen.add(stats(hub.url)["worker"]) or len(seen) == 2, 30)
    watcher = await stack.enter_async_context(
        ws_client(hub.url, token=login(hub.url, "marco", "9999"))
    )
    await subscribe(watcher, "devices")
    token = login(hub.url, "ana", "1234")
    tills: dict[str, tuple[ClientConnection, str]] = {}
    while len({worker for _, worker in tills.values()}) < 2:
        assert len(tills) < 64, "every connection landed on one worker"
        names = [f"till-{len(tills) + i}" for i in range(8)]
        sockets = await asyncio.gather(
            *(stack.enter_async_context(ws_client(hub.url, token=token, client=n)) for n in names)
        )
        for ws in sockets:
            await subscribe(ws, room)
        workers: dict[str, str] = {}
        while len(workers) < len(names):
            (frame,) = await events(watcher, 1)
            data = frame["data"]
            if frame["event"] == "device.status" and data["client"] in names and data["online"]:
                workers[data["client"]] = data["worker"]
        tills.update({n: (ws, workers[n]) for n, ws in zip(names, sockets, strict=True)})
    return tills


@needs_redis
async def test_workers_flag_serves_every_client_every_event(tmp_path: Path) -> None:
    """`serve --workers 2`: wherever a till lands, it gets every order, and presence sees all."""
    db = demo_db(tmp_path / "edgehub.db")
    hub = HubProcess(
        db, "--workers", "2", EDGEHUB_REDIS_URL=SHARED_REDIS, EDGEHUB_STORE=unique_store()
    ).start()
    api = Api(hub.url)
    try:
        session_id = api.open_session()
        async with contextlib.AsyncExitStack() as stack:
            tills = await spread_tills(hub, stack, f"session:{session_id}")
            placed = [await asyncio.to_thread(api.create, session_id) for _ in range(3)]
            for ws, _ in tills.values():
                got = await events(ws, 3)
                assert [f["data"]["uuid"] for f in got] == [o["uuid"] for o in placed]
            for _ in range(6):  # whichever worker answers lists every till
                assert set(tills) <= online_clients(hub.url)
    finally:
        api.close()
        hub.stop()


@needs_redis
async def test_clients_of_a_killed_worker_leave_presence(tmp_path: Path) -> None:
    """A worker killed outright writes no 'offline': the others must notice it is gone."""
    db = demo_db(tmp_path / "edgehub.db")
    hub = HubProcess(
        db, "--workers", "2", EDGEHUB_REDIS_URL=SHARED_REDIS, EDGEHUB_STORE=unique_store()
    ).start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            tills = await spread_tills(hub, stack, "order:00000000-0000-4000-8000-000000000000")
            victim = next(iter(tills.values()))[1]
            os.kill(int(victim.split(":")[0]), signal.SIGKILL)
            gone = {name for name, (_, worker) in tills.items() if worker == victim}

            def listed_right() -> bool:
                return online_clients(hub.url) & set(tills) == set(tills) - gone

            await until(listed_right, 10)
    finally:
        hub.stop()
