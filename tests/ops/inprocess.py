"""The hub app in this test process (Litestar's TestClient), for tests that need its insides.

Same ``create_app`` as ``edgehub serve``, same lifespan (store, jobs), real
SQLite; only the socket is skipped. ``app.state.ops`` is then in reach, to
register hooks or read the scheduler.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from hub.settings import Settings
from hub.web.app import create_app
from tests.support.api_client import DEMO_PINS

SECRET = "test-signing-key-" + "k" * 40


@contextmanager
def running(settings: Settings) -> Iterator[tuple[Litestar, TestClient[Litestar]]]:
    app = create_app(settings)
    with TestClient(app) as client:
        yield app, client


def login(client: TestClient[Any], user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"login": user, "pin": DEMO_PINS[user]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
