"""Which role may join which room: the matrix of docs/realtime.md, checked on a served hub."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from hub.web.realtime.rooms import parse_room
from tests.realtime.conftest import DEVICE_LOGIN, DEVICE_PIN, login
from tests.support.api_client import DEMO_PINS, Api
from tests.support.hub_process import HubProcess
from tests.support.ws_client import recv, send, ws_client


@pytest.fixture(scope="module")
def sessions(rt_hub: HubProcess) -> Iterator[dict[str, int]]:
    """Ana's open session, Marco's open session, Marco's closed one."""
    api = Api(rt_hub.url)
    own = api.open_session("ana")
    other_open = api.open_session("marco")
    other_closed = api.open_session("marco")
    r = api.post(f"/api/v1/sessions/{other_closed}/close", {"closing_cash": "100.00"}, "marco")
    assert r.status_code == 200, r.text
    yield {"own": own, "other_open": other_open, "other_closed": other_closed}
    api.close()


ORDER = f"order:{uuid.uuid4()}"
ROOMS = {
    "store": "store",
    "kitchen": "kitchen",
    "station": "kitchen:grill",
    "own": "session:{own}",
    "other_open": "session:{other_open}",
    "other_closed": "session:{other_closed}",
    "missing": "session:999999",
    "order": ORDER,
    "devices": "devices",
}
# (login, room key) -> may join
MATRIX = {
    "admin": {k: True for k in ROOMS},
    "marco": {k: True for k in ROOMS},
    "ana": {
        "store": False,
        "kitchen": False,
        "station": False,
        "own": True,
        "other_open": True,
        "other_closed": False,
        "missing": False,
        "order": True,
        "devices": True,
    },
    "kitchen": {
        "store": False,
        "kitchen": True,
        "station": True,
        "own": False,
        "other_open": False,
        "other_closed": False,
        "missing": False,
        "order": False,
        "devices": True,
    },
}
MATRIX[DEVICE_LOGIN] = MATRIX["kitchen"]
PINS = {**DEMO_PINS, DEVICE_LOGIN: DEVICE_PIN}
CASES = [(who, key, allowed) for who, row in MATRIX.items() for key, allowed in row.items()]


@pytest.mark.anyio
@pytest.mark.parametrize(("who", "key", "allowed"), CASES)
async def test_role_room_matrix(
    rt_hub: HubProcess, sessions: dict[str, int], who: str, key: str, allowed: bool
) -> None:
    """A role sees only its rooms: a cashier must not follow the whole store, a KDS no till."""
    room = ROOMS[key].format(**sessions)
    async with ws_client(rt_hub.url, token=login(rt_hub.url, who, PINS[who])) as ws:
        await send(ws, type="subscribe", room=room)
        frame = await recv(ws)
    if allowed:
        assert frame["type"] == "subscribed", frame
        assert frame["room"] == room
    else:
        assert frame == {
            "type": "error",
            "error": "forbidden_room",
            "message": frame["message"],
            "room": room,
        }


@pytest.mark.anyio
@pytest.mark.parametrize(
    "room", ["tables:1", "session:abc", "session:0", "store:1", "kitchen:", "order:123", "x" * 128]
)
async def test_unknown_rooms_are_refused(rt_hub: HubProcess, room: str) -> None:
    """A typo in a room name must be an error, not a silent subscription that never fires."""
    async with ws_client(rt_hub.url, token=login(rt_hub.url, "marco", "9999")) as ws:
        await send(ws, type="subscribe", room=room)
        frame = await recv(ws)
        assert frame["type"] == "error"
        assert frame["error"] == "unknown_room"


@pytest.mark.anyio
async def test_order_room_names_are_case_insensitive(rt_hub: HubProcess) -> None:
    """Uuids are stored lower-case; a till sending upper-case must still get its order."""
    name = f"order:{uuid.uuid4()}"
    async with ws_client(rt_hub.url, token=login(rt_hub.url, "ana", "1234")) as ws:
        await send(ws, type="subscribe", room=name.upper().replace("ORDER:", "order:"))
        frame = await recv(ws)
        assert frame["type"] == "subscribed"
        assert frame["room"] == name


def test_room_grammar() -> None:
    """The parser accepts exactly API.md's five room shapes."""
    assert parse_room("store") is not None
    assert parse_room("kitchen") is not None
    assert parse_room("kitchen:cold_2") is not None
    assert parse_room("session:12") is not None
    assert parse_room("session:012") is None
    assert parse_room("session:1234567890123456789") is None
    assert parse_room("order:not-a-uuid") is None
    assert parse_room("kitchen:" + "a" * 33) is None
    assert parse_room("stores") is None
    assert parse_room("store ") is None
