"""Fixtures: an Odoo emulator of each version served over real HTTP, and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from cloud_sync.odoo import OdooClient, retry_pauses
from tests.cloud_sync.hub_side import RETRY_PAUSE_SECONDS
from tests.odoo_emulator import VERSIONS, OdooEmulator

# The client's pauses between tries of a failed call, as sync_settings sets them.
RETRY_PAUSES = retry_pauses(RETRY_PAUSE_SECONDS)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=VERSIONS, ids=lambda version: f"odoo{version}")
def odoo_emulator(request: pytest.FixtureRequest) -> Iterator[OdooEmulator]:
    """A fresh Odoo 16, 17, 18 and 19 (one per test) with the seeded shop, on a free port."""
    with OdooEmulator(request.param) as emulator:
        yield emulator


def client_for(
    emulator: OdooEmulator,
    *,
    db: str | None = None,
    api_key: str | None = None,
    version: int | None = None,
    timeout: float = 2.0,
) -> OdooClient:
    """A client configured as the sync agent would be, with short pauses between tries; the
    version is detected unless given."""
    seed = emulator.seed
    assert seed is not None
    return OdooClient(
        emulator.url,
        db or emulator.dbname,
        seed.login,
        api_key or seed.api_key,
        version=version,
        timeout=timeout,
        retry_pauses=RETRY_PAUSES,
    )


@pytest.fixture
async def odoo_client(odoo_emulator: OdooEmulator) -> AsyncIterator[OdooClient]:
    async with client_for(odoo_emulator) as client:
        yield client
