"""Fixtures for catalogue and cache tests: a store code (so Redis keys are this test's
own), the shared Redis, a private Redis that may be killed, a catalogue database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.catalog import edits
from hub.catalog.edits import ProductInput
from hub.db.connection import immediate, open_db
from hub.db.migrations import migrate
from hub.demo import load_catalogue, load_demo
from hub.settings import Settings
from tests.conftest import make_settings
from tests.support.redis_server import PrivateRedis, drop_keys

SHARED_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def store_code() -> str:
    """A store code of this test's own: every cache key it makes starts edgehub:{code}:."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def shared_redis(store_code: str) -> Iterator[str]:
    yield SHARED_REDIS
    drop_keys(SHARED_REDIS, store_code)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis().start()
    yield server
    server.kill()


def catalogue_db(path: Path, products: int) -> Path:
    """A database with the demo store and ``products`` generated products."""
    settings = make_settings(path)
    db = open_db(settings)
    migrate(db)
    with immediate(db):
        load_demo(db, pin_iterations=settings.auth.pin_hash_iterations)
        if products:
            load_catalogue(db, products)
            # Products with neither barcode nor reference, as hand-made items often are.
            edits.insert_products(
                db, [ProductInput(name=f"Plat du jour n°{i} Crème", price=900) for i in range(30)]
            )
    db.close()
    return path


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store plus 3,000 generated products, shared read-only by search tests."""
    return catalogue_db(tmp_path_factory.mktemp("catalogue") / "edgehub.db", 3000)


@pytest.fixture
def cache_settings(tmp_path: Path, store_code: str) -> Settings:
    """Settings for a fresh demo database whose cache keys are this test's own."""
    path = catalogue_db(tmp_path / "edgehub.db", 0)
    return make_settings(path, store=store_code)
