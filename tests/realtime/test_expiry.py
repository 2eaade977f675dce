"""A socket lives as long as its token: closed with 4401 when ``exp`` passes, not before."""

from __future__ import annotations

import asyncio
import math
import time

import jwt
import pytest

from hub.auth.users import Actor
from hub.web.tokens import issue_token, make_jwt_auth
from tests.conftest import make_settings
from tests.realtime.conftest import DEVICE_LOGIN
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess, run_cli
from tests.support.ws_client import close_code, events, recv, send, subscribe, ws_client

pytestmark = pytest.mark.anyio

# Seconds a short token leaves at least: long enough to subscribe and see an event
# first. A JWT's exp is a whole second, so it is the first one past that (see below).
SHORT_TTL = 1.5
CLOSED_WITHIN = SHORT_TTL + 1 + 5
ANA = Actor(3, "cashier", "Ana")


def short_token(hub: HubProcess) -> tuple[str, float]:
    """A token of Ana's that expires ``SHORT_TTL`` to ``SHORT_TTL + 1`` s from now, and its ``exp``.

    A token issued for ``ttl`` seconds gets the whole second at or below
    ``now + ttl``: a whole-second ``ttl`` would leave anywhere from ``ttl - 1``
    to ``ttl``, so the ``exp`` is picked first and the ``ttl`` aimed half a
    second past it.
    """
    exp = math.ceil(time.time() + SHORT_TTL)
    auth = make_jwt_auth(make_settings(hub.db).with_jwt_secret())
    token = issue_token(auth, ANA, exp + 0.5 - time.time())
    claimed = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert claimed == exp, (claimed, exp)
    return token, float(exp)


async def test_socket_is_closed_4401_when_its_token_expires(
    rt_hub: HubProcess, rt_api: Api
) -> None:
    """A till whose token ran out must stop reading orders, and be told to sign in again."""
    session_id = rt_api.open_session()
    token, exp = short_token(rt_hub)
    async with ws_client(rt_hub.url, token=token) as ws:
        await subscribe(ws, f"session:{session_id}")
        await asyncio.to_thread(rt_api.create, session_id)
        (frame,) = await events(ws, 1)
        assert frame["event"] == "order.created"
        assert time.time() < exp
        assert await close_code(ws, within=CLOSED_WITHIN) == 4401
        closed_at = time.time()
        assert ws.close_reason == "token expired"
    assert exp <= closed_at < exp + 2


async def test_long_lived_device_token_stays_open(rt_hub: HubProcess, rt_api: Api) -> None:
    """A kitchen screen on its month-long device token must not be dropped with a cashier's."""
    printed = run_cli(rt_hub.db, "token", DEVICE_LOGIN)
    assert printed.returncode == 0, printed.stderr
    session_id = rt_api.open_session()
    short, _ = short_token(rt_hub)
    async with (
        ws_client(rt_hub.url, token=printed.stdout.strip()) as screen,
        ws_client(rt_hub.url, token=short) as till,
    ):
        await subscribe(screen, "kitchen")
        assert await close_code(till, within=CLOSED_WITHIN) == 4401
        order = await asyncio.to_thread(rt_api.create, session_id)
        assert (await asyncio.to_thread(rt_api.fire, order["id"], "validate")).status_code == 200
        assert (await asyncio.to_thread(rt_api.pay_exact, order)).status_code == 200
        frames = await events(screen, 2)
        assert [f["event"] for f in frames] == ["order.updated", "payment.processed"]
        await send(screen, type="ping")
        assert (await recv(screen))["type"] == "pong"


async def test_after_expiry_a_new_token_and_since_miss_nothing(
    rt_hub: HubProcess, rt_api: Api
) -> None:
    """The 4401 is harmless to a till that signs in again: replay fills what it missed."""
    session_id = rt_api.open_session()
    token, _ = short_token(rt_hub)
    async with ws_client(rt_hub.url, token=token) as ws:
        seen = (await subscribe(ws, f"session:{session_id}"))["seq"]
        assert await close_code(ws, within=CLOSED_WITHIN) == 4401
    missed = rt_api.create(session_id)
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        await subscribe(ws, f"session:{session_id}", since=seen)
        (frame,) = await events(ws, 1)
        assert frame["data"]["uuid"] == missed["uuid"]
