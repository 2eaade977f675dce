"""A terminal's side of ``/ws`` for tests: connect, subscribe, read frames, see close codes.

Built on the ``websockets`` client, as a till or a browser KDS would be; no
part of the hub is imported here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 5.0


def ws_url(base_url: str, **params: str) -> str:
    url = base_url.replace("http://", "ws://", 1) + "/ws"
    return url + ("?" + urlencode(params) if params else "")


@asynccontextmanager
async def ws_client(base_url: str, **params: str) -> AsyncIterator[ClientConnection]:
    """An open connection; ``token=...``, ``client=...`` go in the query string."""
    async with connect(ws_url(base_url, **params), open_timeout=TIMEOUT, max_queue=None) as ws:
        yield ws


async def send(ws: ClientConnection, **message: Any) -> None:
    await ws.send(json.dumps(message))


async def recv(ws: ClientConnection, within: float = TIMEOUT) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), within)
    doc: dict[str, Any] = json.loads(frame)
    return doc


async def subscribe(
    ws: ClientConnection, room: str, since: int | None = None, within: float = TIMEOUT
) -> dict[str, Any]:
    """Join ``room``; returns the ``subscribed`` frame (fails on anything else)."""
    message: dict[str, Any] = {"type": "subscribe", "room": room}
    if since is not None:
        message["since"] = since
    await send(ws, **message)
    frame = await recv(ws, within)
    assert frame["type"] == "subscribed", frame
    assert frame["room"] == room
    return frame


async def events(ws: ClientConnection, count: int, within: float = TIMEOUT) -> list[dict[str, Any]]:
    """The next ``count`` event frames (other frames are a failure)."""
    got = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while len(got) < count:
        frame = await recv(ws, max(0.01, deadline - loop.time()))
        assert frame["type"] == "event", frame
        got.append(frame)
    return got


async def quiet(ws: ClientConnection) -> list[dict[str, Any]]:
    """Every frame before the pong of a ping sent now: what the hub had queued for us."""
    await send(ws, type="ping")
    frames = []
    while True:
        frame = await recv(ws)
        if frame["type"] == "pong":
            return frames
        frames.append(frame)


async def close_code(ws: ClientConnection, within: float = TIMEOUT) -> int | None:
    """Read until the hub closes the connection; its close code."""
    try:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    except ConnectionClosed:
        pass
    return ws.close_code
