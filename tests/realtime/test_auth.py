"""Who gets a WebSocket: tokens in the query or a first auth message, and the close codes."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from hub.auth.users import Actor
from hub.db.connection import immediate, open_db
from hub.web.tokens import issue_token, make_jwt_auth
from tests.conftest import make_settings
from tests.realtime.conftest import DEVICE_LOGIN, DEVICE_PIN, demo_db
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess
from tests.support.ws_client import close_code, recv, send, subscribe, ws_client

pytestmark = pytest.mark.anyio


async def test_token_in_query_opens_the_connection(rt_hub: HubProcess, rt_api: Api) -> None:
    """A browser cannot set headers on a WebSocket: ?token= must be enough to get in."""
    session_id = rt_api.open_session()
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        frame = await subscribe(ws, f"session:{session_id}")
        assert isinstance(frame["seq"], int)


async def test_first_auth_message_opens_the_connection(rt_hub: HubProcess, rt_api: Api) -> None:
    """Keeping the token out of URLs (and proxy logs) must work as well as the query."""
    session_id = rt_api.open_session()
    async with ws_client(rt_hub.url) as ws:
        await send(ws, type="auth", token=rt_api.token("ana"))
        await subscribe(ws, f"session:{session_id}")


async def test_no_token_is_closed_4401_after_the_sign_in_timeout(tmp_path: Path) -> None:
    """A socket that never says who it is must not hold a slot forever."""
    timeout = 1.0  # EDGEHUB_WS_AUTH_TIMEOUT; 5 s unless set
    hub = HubProcess(demo_db(tmp_path / "edgehub.db"), EDGEHUB_WS_AUTH_TIMEOUT=str(timeout))
    hub.start()
    try:
        started = time.monotonic()
        async with ws_client(hub.url) as ws:
            assert await close_code(ws, within=10) == 4401
        assert 0.9 * timeout < time.monotonic() - started < timeout + 3
    finally:
        hub.stop()


async def test_bad_token_in_query_is_closed_4401(rt_hub: HubProcess) -> None:
    """The client must see 4401, not an HTTP 403: the hub accepts before it closes."""
    async with ws_client(rt_hub.url, token="not-a-jwt") as ws:
        assert await close_code(ws) == 4401


async def test_first_message_other_than_auth_is_closed_4401(rt_hub: HubProcess) -> None:
    """Subscribing before signing in must not slip through."""
    async with ws_client(rt_hub.url) as ws:
        await send(ws, type="subscribe", room="store")
        assert await close_code(ws) == 4401


async def test_wrong_auth_message_token_is_closed_4401(rt_hub: HubProcess) -> None:
    """A forged token in the auth message is refused like one in the query."""
    async with ws_client(rt_hub.url) as ws:
        await send(ws, type="auth", token="e30.e30.e30")
        assert await close_code(ws) == 4401


async def test_expired_token_is_closed_4401(rt_hub: HubProcess) -> None:
    """A token past its expiry must not open a socket that then lives for hours."""
    secret = make_settings(rt_hub.db).with_jwt_secret().jwt_secret()
    now = int(time.time())
    token = jwt.encode({"sub": "3", "iat": now - 100, "exp": now - 10}, secret, "HS256")
    async with ws_client(rt_hub.url, token=token) as ws:
        assert await close_code(ws) == 4401


async def test_token_of_a_deactivated_user_is_closed_4401(tmp_path: Path) -> None:
    """Deactivating a user must lock them out of the WebSocket at once, not at expiry."""
    db_path = demo_db(tmp_path / "edgehub.db")
    settings = make_settings(db_path)
    token = issue_token(make_jwt_auth(settings.with_jwt_secret()), Actor(3, "cashier", "Ana"), 3600)
    db = open_db(settings)
    with immediate(db):
        db.execute("UPDATE users SET active = 0 WHERE id = 3")
    db.close()
    hub = HubProcess(db_path).start()
    try:
        async with ws_client(hub.url, token=token) as ws:
            assert await close_code(ws) == 4401
    finally:
        hub.stop()


async def test_user_deactivated_while_connected_is_closed_4403(rt_hub: HubProcess) -> None:
    """An open socket must not outlive its user's access: the next subscribe ends it."""
    api = Api(rt_hub.url)
    r = api.http.post("/api/v1/auth/token", json={"login": DEVICE_LOGIN, "pin": DEVICE_PIN})
    token = r.json()["access_token"]
    async with ws_client(rt_hub.url, token=token) as ws:
        await subscribe(ws, "kitchen:grill")
        db = open_db(make_settings(rt_hub.db))
        with immediate(db):
            db.execute("UPDATE users SET active = 0 WHERE login = ?", (DEVICE_LOGIN,))
        try:
            await send(ws, type="subscribe", room="kitchen:bar")
            assert await close_code(ws) == 4403
        finally:
            with immediate(db):
                db.execute("UPDATE users SET active = 1 WHERE login = ?", (DEVICE_LOGIN,))
            db.close()
    api.close()


async def test_auth_message_after_sign_in_is_an_error(rt_hub: HubProcess, rt_api: Api) -> None:
    """A second auth is a client bug worth telling, not a reason to drop the till."""
    async with ws_client(rt_hub.url, token=rt_api.token("ana")) as ws:
        await send(ws, type="auth", token=rt_api.token("marco"))
        frame = await recv(ws)
        assert frame["type"] == "error"
        assert frame["error"] == "already_authenticated"
        await send(ws, type="ping")
        assert (await recv(ws))["type"] == "pong"


async def test_malformed_client_name_is_closed_4400(rt_hub: HubProcess, rt_api: Api) -> None:
    """The client name becomes a device id in presence: garbage there is refused."""
    async with ws_client(rt_hub.url, token=rt_api.token("ana"), client="till 1/../x") as ws:
        assert await close_code(ws) == 4400
