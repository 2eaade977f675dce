"""A hub of the fuzzers' own (they create, patch and cancel at random) and its staff's tokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import demo_database
from tests.kitchen.conftest import kitchen, mqtt_client, printers  # noqa: F401  (fixtures)
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess

SHARED_REDIS = "redis://127.0.0.1:6379/0"

FUZZ_ROLES = {"admin": "admin", "cashier": "ana"}
"""The roles the fuzzers call as, and the demo login of each."""


@pytest.fixture(scope="session")
def fuzz_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One served hub for every fuzz test; its log is read for tracebacks at the end.

    It caches in the shared Redis, under a store code of its own, so fuzzed ids and
    queries go through the Redis paths of the cache as a store's hub would.
    """
    db = demo_database(Path(tmp_path_factory.mktemp("fuzz")) / "edgehub.db")
    hub = HubProcess(
        db, EDGEHUB_REDIS_URL=SHARED_REDIS, EDGEHUB_STORE=f"fz{uuid.uuid4().hex[:10]}"
    ).start()
    yield hub
    hub.stop()


@pytest.fixture(scope="session")
def fuzz_tokens(fuzz_hub: HubProcess) -> dict[str, str]:
    """Bearer headers by role, taken before any fuzzing (which trips the login throttle)."""
    api = Api(fuzz_hub.url)
    try:
        return {role: f"Bearer {api.token(login)}" for role, login in FUZZ_ROLES.items()}
    finally:
        api.close()
