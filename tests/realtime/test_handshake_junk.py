"""What reaches uvicorn's WebSocket layer before the hub: a very long ``?token=`` and a text
frame that is not UTF-8. The first gets the documented 4401, the second a 1007 and a
one-line warning, never an ERROR with a traceback."""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from tests.realtime.conftest import login
from tests.support.hub_process import HubProcess
from tests.support.ws_client import close_code, recv, send, ws_client


@pytest.mark.anyio
async def test_a_20000_character_token_is_closed_4401_not_refused_414(rt_hub: HubProcess) -> None:
    """A client with a garbage token learns it from the close code API.md documents."""
    async with ws_client(rt_hub.url, token="a" * 20_000) as ws:
        assert await close_code(ws) == 4401


@pytest.mark.anyio
async def test_an_invalid_utf8_text_frame_is_closed_1007_with_a_warning_not_a_traceback(
    rt_hub: HubProcess,
) -> None:
    """A buggy terminal's bytes are its fault: the socket closes 1007, the log keeps one line."""
    token = login(rt_hub.url, "marco", "9999")
    before = len(rt_hub.log.read_text())
    async with ws_client(rt_hub.url, token=token) as ws:
        await send(ws, type="ping")
        assert (await recv(ws))["type"] == "pong"
        ws.protocol.send_frame(Frame(Opcode.TEXT, b'{"type": "ping\xff\xfe"}'))
        ws.send_data()
        with pytest.raises(ConnectionClosed):
            await recv(ws)
        assert ws.close_code == 1007
    deadline = time.monotonic() + 5
    while "ws_invalid_utf8_frame" not in rt_hub.log.read_text()[before:]:
        assert time.monotonic() < deadline, "the closed frame was not logged"
        await asyncio.sleep(0.02)
    added = rt_hub.log.read_text()[before:]
    assert "Traceback" not in added and "UnicodeDecodeError" not in added
    (line,) = [line for line in added.splitlines() if "ws_invalid_utf8_frame" in line]
    assert " WARNING " in line and " ERROR " not in added
