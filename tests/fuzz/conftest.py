"""A hub of the fuzzers' own (they create, patch and cancel at random) and its staff's tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import demo_database
from tests.kitchen.conftest import kitchen, mqtt_client, printers  # noqa: F401  (fixtures)
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess

FUZZ_ROLES = {"admin": "admin", "cashier": "ana"}
"""The roles the fuzzers call as, and the demo login of each."""


@pytest.fixture(scope="session")
def fuzz_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One served hub for every fuzz test; its log is read for tracebacks at the end."""
    db = demo_database(Path(tmp_path_factory.mktemp("fuzz")) / "edgehub.db")
    hub = HubProcess(db).start()
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
