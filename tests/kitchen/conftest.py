"""Kitchen fixtures: a store of the test's own on the shared Mosquitto, printers, MQTT clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import demo_database
from tests.support.kitchen import Kitchen, SimPrinter
from tests.support.mqtt_client import Mqtt, PrivateBroker


@pytest.fixture
def kitchen(tmp_path: Path) -> Iterator[Kitchen]:
    """A demo-store database with a unique store code; its processes are stopped after."""
    k = Kitchen(demo_database(tmp_path / "edgehub.db"))
    yield k
    k.close()


@pytest.fixture
def printers() -> Iterator[Callable[..., SimPrinter]]:
    """Makes simulated ESC/POS printers on free ports; closes them after the test."""
    made: list[SimPrinter] = []

    def make(**switches: Any) -> SimPrinter:
        sim = SimPrinter(**switches)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


@pytest.fixture
def mqtt_client() -> Iterator[Callable[..., Mqtt]]:
    """Makes MQTT clients (KDS, fake devices, observers); disconnects them after the test."""
    made: list[Mqtt] = []

    def make(port: int = 1883) -> Mqtt:
        client = Mqtt(port)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def broker() -> Iterator[PrivateBroker]:
    """A Mosquitto of this test's own, to kill and restart."""
    b = PrivateBroker().start()
    yield b
    b.stop()
