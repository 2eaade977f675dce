"""Shared fixtures: a demo-store database file and a served hub over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.db.connection import immediate, open_db
from hub.db.migrations import migrate
from hub.db.store import Store
from hub.demo import load_demo
from hub.settings import Settings
from tests.support.api_client import Api
from tests.support.hub_process import FAST_HASH, HubProcess
from tests.support.notify_socket import manager  # noqa: F401  (a fixture, shared)

# The longest files of the suite in a profile of it (15 s and more), begun first when
# pytest-xdist spreads files over workers: one of them dealt out last would leave
# the other workers idle while it runs alone at the end. (scripts/test passes
# --no-loadscope-reorder: else xdist deals the files with the most tests first.)
SLOW_FILES = (
    "tests/e2e/test_fault_suite.py",
    "tests/fuzz/test_schema.py",
    "tests/cloud_sync/test_sync_push.py",
    "tests/catalog/test_fuzzy.py",
    "tests/e2e/test_selftest.py",
    "tests/realtime/test_workers.py",
    "tests/hub/test_order_stateful.py",
    "tests/e2e/test_fault_ledger_check.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist (``workerinput`` is set in a worker), the slow files come first."""
    if not hasattr(config, "workerinput"):
        return
    rank = {name: n for n, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(SLOW_FILES)))


def make_settings(db: Path, **overrides: object) -> Settings:
    return Settings(db=db, pin_hash_iterations=int(FAST_HASH), mqtt_url="", **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh database file with the demo store loaded."""
    return make_settings(demo_database(tmp_path / "edgehub.db"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A started ``Store`` on a fresh, empty file, closed after the test."""
    started = Store(Settings(db=str(tmp_path / "hub.db")))
    started.start()
    yield started
    started.close()


@pytest.fixture(scope="session")
def served_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One hub process for the API tests that do not need a fresh database."""
    hub = HubProcess(demo_database(tmp_path_factory.mktemp("served") / "edgehub.db")).start()
    yield hub
    hub.stop()


@pytest.fixture
def api(served_hub: HubProcess) -> Iterator[Api]:
    client = Api(served_hub.url)
    yield client
    client.close()


def demo_database(db: Path) -> Path:
    """Create a database file holding the demo store."""
    s = make_settings(db)
    conn = open_db(s)
    migrate(conn)
    with immediate(conn):
        load_demo(conn, pin_iterations=s.auth.pin_hash_iterations)
    conn.close()
    return db


@pytest.fixture(scope="module")
def module_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A hub of its own for a test module that changes the catalogue or stock."""
    hub = HubProcess(demo_database(tmp_path_factory.mktemp("module") / "edgehub.db")).start()
    yield hub
    hub.stop()


@pytest.fixture
def module_api(module_hub: HubProcess) -> Iterator[Api]:
    client = Api(module_hub.url)
    yield client
    client.close()
