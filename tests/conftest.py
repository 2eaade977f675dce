"""Shared fixtures: a demo-store database file and a served hub over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.db.connection import immediate, open_db
from hub.db.migrations import migrate
from hub.demo import load_demo
from hub.settings import Settings
from tests.support.api_client import Api
from tests.support.hub_process import FAST_HASH, HubProcess


def make_settings(db: Path, **overrides: object) -> Settings:
    return Settings(db=db, pin_hash_iterations=int(FAST_HASH), mqtt_url="", **overrides)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh database file with the demo store loaded."""
    s = make_settings(tmp_path / "edgehub.db")
    db = open_db(s)
    migrate(db)
    with immediate(db):
        load_demo(db, pin_iterations=s.pin_hash_iterations)
    db.close()
    return s


@pytest.fixture(scope="session")
def served_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One hub process for the API tests that do not need a fresh database."""
    db = tmp_path_factory.mktemp("served") / "edgehub.db"
    s = make_settings(db)
    conn = open_db(s)
    migrate(conn)
    with immediate(conn):
        load_demo(conn, pin_iterations=s.pin_hash_iterations)
    conn.close()
    hub = HubProcess(db).start()
    yield hub
    hub.stop()


@pytest.fixture
def api(served_hub: HubProcess) -> Iterator[Api]:
    client = Api(served_hub.url)
    yield client
    client.close()
