"""The app from create_app serves /ws by itself, without the server's fast path."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from hub.settings import Settings
from hub.web.app import create_app


def _token(client: TestClient[Any], login: str, pin: str) -> str:
    r = client.post("/api/v1/auth/token", json={"login": login, "pin": pin})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_litestar_route_serves_the_same_protocol(settings: Settings) -> None:
    """Tests and other ASGI servers use the Litestar route: it must behave as /ws does."""
    with TestClient(create_app(settings)) as client:
        token = _token(client, "ana", "1234")
        headers = {"Authorization": f"Bearer {token}"}
        r = client.post(
            "/api/v1/sessions", json={"terminal": "t", "opening_cash": "0.00"}, headers=headers
        )
        session_id = r.json()["id"]
        with client.websocket_connect(f"/ws?token={token}&client=till-9") as ws:
            ws.send_json({"type": "subscribe", "room": f"session:{session_id}"})
            assert ws.receive_json()["type"] == "subscribed"
            body = {
                "uuid": str(uuid.uuid4()),
                "session_id": session_id,
                "lines": [{"product_id": 1, "qty": "1"}],
            }
            assert client.post("/api/v1/orders", json=body, headers=headers).status_code == 201
            frame = ws.receive_json()
            assert (frame["type"], frame["event"]) == ("event", "order.created")
            assert frame["data"]["uuid"] == body["uuid"]


def test_plain_get_of_ws_is_told_to_upgrade(settings: Settings) -> None:
    """A browser opening /ws as a page gets a reason, not a hang or a 500."""
    with TestClient(create_app(settings)) as client:
        r = client.get("/ws")
        assert r.status_code == 426
        assert r.json()["error"] == "upgrade_required"
