"""Garbage on the socket: an error frame or a 44xx close, never a crash or a leak."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from hub.web.realtime import protocol
from tests.realtime.conftest import login
from tests.support import local_http
from tests.support.hub_process import HubProcess
from tests.support.ws_client import close_code, recv, send, subscribe, ws_client

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
near_messages = st.fixed_dictionaries(
    {"type": st.sampled_from(["subscribe", "unsubscribe", "ping", "auth", "event"]) | st.text()},
    optional={
        "room": st.sampled_from(["store", "kitchen", "session:1", "kitchen:grill", "order:x"])
        | json_values,
        "since": st.integers(-5, 2**70) | json_values,
        "token": json_values,
    },
)
frames = st.one_of(
    near_messages.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
    st.sampled_from(["[" * 5000, '{"type": "ping"', '{"type": NaN}', '{"type": "ping"} x']),
)


@given(st.one_of(st.text(max_size=300), frames))
def test_parse_only_ever_raises_protocol_errors(text: str | bytes) -> None:
    """The one function that reads client input must turn every input into a verdict."""
    key = "text" if isinstance(text, str) else "bytes"
    event = {"type": "websocket.receive", key: text}
    try:
        message = protocol.parse(event)
    except protocol.ProtocolError as exc:
        assert exc.code in {
            protocol.BAD_MESSAGE,
            protocol.MESSAGE_TOO_LARGE,
            protocol.BINARY_NOT_SUPPORTED,
            protocol.UNKNOWN_TYPE,
        }
    else:
        assert isinstance(message, protocol.ClientMessage)


@pytest.fixture(scope="module")
def manager_token(rt_hub: HubProcess) -> Iterator[str]:
    yield login(rt_hub.url, "marco", "9999")


def _stats(hub: HubProcess, token: str) -> dict[str, Any]:
    r = local_http.get(
        f"{hub.url}/api/v1/realtime/stats", headers={"Authorization": f"Bearer {token}"}
    )
    return dict(r.json())


async def _throw(hub: HubProcess, token: str, batch: list[str | bytes]) -> int | None:
    """Send ``batch``, then a ping; the close code if the hub hung up, else None."""
    async with ws_client(hub.url, token=token) as ws:
        try:
            for frame in batch:
                await ws.send(frame)
            await send(ws, type="ping")
            while (await recv(ws))["type"] != "pong":
                pass
        except (ConnectionClosed, OSError):
            return ws.close_code
    return None


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(frames, max_size=14))
def test_fuzzed_frames_never_crash_the_hub(
    rt_hub: HubProcess, manager_token: str, batch: list[str | bytes]
) -> None:
    """Whatever a buggy or hostile terminal sends, the hub answers or hangs up with 44xx."""
    code = asyncio.run(_throw(rt_hub, manager_token, batch))
    assert code is None or 4400 <= code < 4500, code


async def _first_message(hub: HubProcess, frame: str | bytes) -> int | None:
    async with ws_client(hub.url) as ws:
        with contextlib.suppress(ConnectionClosed, OSError):
            await ws.send(frame)
        return await close_code(ws, within=8)


@settings(max_examples=25, deadline=None)
@given(frame=st.one_of(frames, near_messages.map(lambda m: json.dumps({**m, "type": "auth"}))))
def test_fuzzed_first_messages_are_all_refused_4401(rt_hub: HubProcess, frame: str | bytes) -> None:
    """Before sign-in, nothing but a valid token opens the door, and nothing crashes it."""
    assert asyncio.run(_first_message(rt_hub, frame)) == 4401


@pytest.mark.anyio
async def test_too_many_query_parameters_are_refused_4400(rt_hub: HubProcess) -> None:
    """A connect URL stuffed with parameters is refused before any work is done for it."""
    params = {f"p{i}": "x" for i in range(30)}
    async with ws_client(rt_hub.url, **params) as ws:
        assert await close_code(ws) == 4400


@pytest.mark.anyio
async def test_oversized_message_gets_an_error_and_the_socket_lives(
    rt_hub: HubProcess, manager_token: str
) -> None:
    """A 70 kB message is refused with a reason, and the till's connection survives it."""
    async with ws_client(rt_hub.url, token=manager_token) as ws:
        await send(ws, type="ping", pad="x" * 70_000)
        frame = await recv(ws)
        assert frame["error"] == "message_too_large"
        await subscribe(ws, "store")


@pytest.mark.anyio
async def test_binary_frames_get_an_error(rt_hub: HubProcess, manager_token: str) -> None:
    """The protocol is JSON text: a binary frame is answered, not silently dropped."""
    async with ws_client(rt_hub.url, token=manager_token) as ws:
        await ws.send(b"\x00\x01")
        assert (await recv(ws))["error"] == "binary_not_supported"


async def keep_sending(ws: Any, one: Callable[[], Awaitable[Any]], times: int) -> None:
    """Send ``times`` frames, stopping early once the hub has hung up."""
    for _ in range(times):
        try:
            await one()
        except (ConnectionClosed, OSError):
            return


@pytest.mark.anyio
async def test_a_client_that_keeps_sending_garbage_is_closed_4400(
    rt_hub: HubProcess, manager_token: str
) -> None:
    """Error frames are for mistakes; a stream of garbage is cut off instead of answered."""
    async with ws_client(rt_hub.url, token=manager_token) as ws:
        await keep_sending(ws, lambda: ws.send("not json"), 30)
        assert await close_code(ws) == 4400


@pytest.mark.anyio
async def test_a_flood_of_valid_messages_is_closed_4429(
    rt_hub: HubProcess, manager_token: str
) -> None:
    """Thousands of pings a second is no till: the hub stops answering and hangs up."""
    async with ws_client(rt_hub.url, token=manager_token) as ws:
        await keep_sending(ws, lambda: send(ws, type="ping"), 1000)
        assert await close_code(ws) == 4429


@pytest.mark.anyio
async def test_a_frame_over_the_hard_cap_is_refused_by_the_server(
    rt_hub: HubProcess, manager_token: str
) -> None:
    """Past 1 MiB the WebSocket layer itself refuses (1009) before the hub buffers it."""
    async with ws_client(rt_hub.url, token=manager_token) as ws:
        with contextlib.suppress(ConnectionClosed):
            await ws.send("x" * (2 * 1024 * 1024))
        assert await close_code(ws) == 1009


def test_the_fuzzing_left_no_trace(rt_hub: HubProcess, manager_token: str) -> None:
    """After the fuzzing, no connection or subscription lingers and no traceback was logged."""
    deadline = time.monotonic() + 10
    while (s := _stats(rt_hub, manager_token))["clients"] or s["subscriptions"]:
        assert time.monotonic() < deadline, s
        time.sleep(0.1)
    log = rt_hub.log.read_text()
    assert "Traceback" not in log
    assert "ws_session_failed" not in log
