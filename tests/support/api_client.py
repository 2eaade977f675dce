"""A small till-side client for tests: log in by PIN, open a session, drive orders."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import httpx

from tests.support import local_http

DEMO_PINS = {"admin": "0000", "marco": "9999", "ana": "1234", "kitchen": "5555"}


class Api:
    def __init__(self, base_url: str) -> None:
        self.http = local_http.client(base_url=base_url, timeout=10)
        self._tokens: dict[str, str] = {}

    def token(self, login: str) -> str:
        if login not in self._tokens:
            r = self.http.post("/api/v1/auth/token", json={"login": login, "pin": DEMO_PINS[login]})
            r.raise_for_status()
            self._tokens[login] = r.json()["access_token"]
        return self._tokens[login]

    def headers(self, login: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(login)}"}

    def get(self, path: str, as_: str = "ana", **kw: Any) -> httpx.Response:
        return self.http.get(path, headers=self.headers(as_), **kw)

    def post(self, path: str, body: Any = None, as_: str = "ana", **kw: Any) -> httpx.Response:
        if body is None:
            return self.http.post(path, headers=self.headers(as_), **kw)
        return self.http.post(path, json=body, headers=self.headers(as_), **kw)

    def patch(self, path: str, body: Any, as_: str = "ana") -> httpx.Response:
        return self.http.patch(path, json=body, headers=self.headers(as_))

    def open_session(self, as_: str = "ana") -> int:
        r = self.post("/api/v1/sessions", {"terminal": "till-1", "opening_cash": "100.00"}, as_)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def order_body(
        self, session_id: int, lines: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        return {
            "uuid": str(uuidlib.uuid4()),
            "session_id": session_id,
            "lines": lines if lines is not None else [{"product_id": 1, "qty": "1"}],
        }

    def create(self, session_id: int, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        r = self.post("/api/v1/orders", self.order_body(session_id, lines))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def fire(self, order_id: int, event: str, body: Any = None, as_: str = "ana") -> httpx.Response:
        return self.post(f"/api/v1/orders/{order_id}/{event}", body, as_)

    def pay_exact(self, order: dict[str, Any], method_id: int = 2) -> httpx.Response:
        payment = {"method_id": method_id, "amount": order["amount_total"]}
        return self.fire(order["id"], "pay", {"payments": [payment]})

    def close(self) -> None:
        self.http.close()
