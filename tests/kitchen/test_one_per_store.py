"""One bridge per store, one adapter per printer: a second copy refuses and names the first.

Every start that must find a claim, or that starts because the claim is gone, waits for it
as long as a shipped bridge does (SHIPPED_CLAIM_WAIT): a short wait could pass by missing it.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path

from hub.mqtt_topics import Topics
from tests.conftest import demo_database
from tests.support.db_content import content
from tests.support.hub_process import free_port
from tests.support.kitchen import SHIPPED_CLAIM_WAIT, Kitchen, SimPrinter
from tests.support.mqtt_client import Mqtt


def test_a_second_bridge_refuses_and_names_the_first(kitchen: Kitchen) -> None:
    """Two bridges would take each other's MQTT client id every second: the second refuses."""
    first = kitchen.bridge()
    assert first.proc is not None
    before = content(kitchen.db)
    second = kitchen.command("bridge", **SHIPPED_CLAIM_WAIT)
    assert second.returncode == 4, second.stderr
    assert f"the kitchen bridge of store '{kitchen.store}' already runs" in second.stderr
    assert f"pid {first.proc.pid} " in second.stderr
    assert "Only one may run per store" in second.stderr
    assert content(kitchen.db) == before
    assert first.alive()


def test_a_bridge_starts_again_after_the_first_was_killed(kitchen: Kitchen) -> None:
    """The lock dies with its process, even by SIGKILL: a restart is never kept out."""
    kitchen.bridge().kill()
    assert kitchen.bridge(**SHIPPED_CLAIM_WAIT).alive()  # nor by the dead one's claim


def test_a_second_printer_adapter_for_one_device_refuses(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """Two adapters on one printer would print every ticket twice."""
    sim = printers()
    kitchen.add_device("p1", "grill")
    first = kitchen.printer("p1", sim.port)
    assert first.proc is not None
    before = content(kitchen.db)
    second = kitchen.command(
        "printer",
        "--device",
        "p1",
        "--connect",
        f"tcp://127.0.0.1:{sim.port}",
        **SHIPPED_CLAIM_WAIT,
    )
    assert second.returncode == 4, second.stderr
    assert "the printer adapter of 'p1' already runs" in second.stderr
    assert f"pid {first.proc.pid} " in second.stderr
    assert content(kitchen.db) == before
    status = kitchen.command("status")
    assert re.search(rf"printer p1 +│ running: EdgeHub \S+, pid {first.proc.pid}", status.stdout)


def _claims(kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]) -> Mqtt:
    """An observer of the store's retained bridge claim (its current one arrives first)."""
    return mqtt_client().subscribe(Topics(kitchen.store).claim)


def _next_claim(observer: Mqtt) -> dict[str, object] | None:
    """The next claim message: the claim, or None for an empty (cleared) one."""
    topic, payload, _ = observer.messages.get(timeout=15)
    assert topic.endswith("/bridge/claim")
    return json.loads(payload) if payload else None


def test_a_bridge_on_another_database_refuses_and_names_the_first(
    kitchen: Kitchen, tmp_path: Path, mqtt_client: Callable[..., Mqtt]
) -> None:
    """Same store code, no shared lock file: the claim on the broker keeps the second out."""
    first = kitchen.bridge()
    assert first.proc is not None
    claim = _next_claim(_claims(kitchen, mqtt_client))
    assert claim is not None and claim["pid"] == first.proc.pid
    other = Kitchen(demo_database(tmp_path / "other" / "edgehub.db"), store=kitchen.store)
    before = content(other.db)
    second = other.command("bridge", **SHIPPED_CLAIM_WAIT)
    assert second.returncode == 4, second.stderr
    assert (
        f"the kitchen bridge of store '{kitchen.store}' already runs: pid {first.proc.pid} on "
        f"{socket.gethostname()} (database {kitchen.db})"
    ) in second.stderr
    assert "Only one may run per store" in second.stderr
    assert content(other.db) == before
    assert first.alive()
    # The check used a client id of its own: the first was never thrown off.
    assert "connects=2" not in first.log_text()
    assert "reason=Unspecified error" not in first.log_text()


def test_a_killed_bridges_claim_goes_with_its_connection(
    kitchen: Kitchen, tmp_path: Path, mqtt_client: Callable[..., Mqtt]
) -> None:
    """SIGKILL says no goodbye: the broker publishes the will, which clears the claim."""
    first = kitchen.bridge()
    observer = _claims(kitchen, mqtt_client)
    assert _next_claim(observer) is not None
    first.kill()
    assert _next_claim(observer) is None
    other = Kitchen(demo_database(tmp_path / "other" / "edgehub.db"), store=kitchen.store)
    try:
        second = other.bridge(**SHIPPED_CLAIM_WAIT)
        assert second.proc is not None
        claim = _next_claim(observer)
        assert claim is not None and claim["pid"] == second.proc.pid
        assert claim["db"] == str(other.db)
    finally:
        other.close()


def test_after_a_clean_stop_another_bridge_starts_at_once(
    kitchen: Kitchen, tmp_path: Path, mqtt_client: Callable[..., Mqtt]
) -> None:
    """The bridge clears its claim itself when it stops: the next one is not kept waiting."""
    first = kitchen.bridge()
    observer = _claims(kitchen, mqtt_client)
    assert _next_claim(observer) is not None
    first.stop()
    assert first.proc is not None and first.proc.returncode == 0
    other = Kitchen(demo_database(tmp_path / "other" / "edgehub.db"), store=kitchen.store)
    try:
        assert other.bridge(**SHIPPED_CLAIM_WAIT).alive()
    finally:
        other.close()


def test_a_bridge_starts_when_the_broker_is_away(kitchen: Kitchen) -> None:
    """No broker, no check: the kitchen must not wait for the broker to start."""
    bridge = kitchen.bridge(
        EDGEHUB_MQTT_URL=f"mqtt://127.0.0.1:{free_port()}",
        EDGEHUB_TIMING=json.dumps({"claim_connect_seconds": 0.3}),  # 3 s shipped
    )
    assert bridge.alive()
    assert "bridge_claim_unchecked" in bridge.log_text()
    assert "no answer from the broker within 0.3s" in bridge.log_text()


def _claim(**fields: object) -> dict[str, object]:
    claim: dict[str, object] = {
        "instance": "0" * 32,
        "pid": 424242,
        "host": "till-pc-2",
        "db": "/srv/other/edgehub.db",
        "version": "0.0.1",
        "since": "2026-01-02T03:04:05+00:00",
    }
    return claim | fields


def test_a_claim_from_another_box_keeps_the_bridge_out(
    kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]
) -> None:
    """Another PC's bridge for the store shares nothing with this one but the broker."""
    topic = Topics(kitchen.store).claim
    publisher = mqtt_client()
    publisher.publish(topic, _claim(), retain=True)
    try:
        second = kitchen.command("bridge", **SHIPPED_CLAIM_WAIT)
        assert second.returncode == 4, second.stderr
        assert (
            f"the kitchen bridge of store '{kitchen.store}' already runs: pid 424242 on till-pc-2 "
            "(database /srv/other/edgehub.db), EdgeHub 0.0.1, running since 2026-01-02T03:04:05"
        ) in second.stderr
    finally:
        publisher.publish(topic, b"", retain=True)


def test_a_dead_bridges_claim_from_this_database_does_not_keep_it_out(
    kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]
) -> None:
    """After a power cut the broker may still hold our own last claim: the lock says it is
    a dead process's (no live bridge has this database), so it is taken over, not obeyed."""
    topic = Topics(kitchen.store).claim
    mqtt_client().publish(topic, _claim(host=socket.gethostname(), db=str(kitchen.db)), retain=True)
    bridge = kitchen.bridge(**SHIPPED_CLAIM_WAIT)
    assert bridge.proc is not None
    assert "bridge_claim_stale pid=424242" in bridge.log_text()
    observer = _claims(kitchen, mqtt_client)  # the stale claim, if the new one is not out yet
    while (claim := _next_claim(observer)) is None or claim["pid"] != bridge.proc.pid:
        assert claim is None or claim["pid"] == 424242, claim


def _adapter_claim(kitchen: Kitchen, device: str, mqtt_client: Callable[..., Mqtt]) -> Mqtt:
    return mqtt_client().subscribe(Topics(kitchen.store).status(device))


def _next_adapter(observer: Mqtt) -> dict[str, object] | None:
    """The adapter named in the device's next status (None: offline, or none named)."""
    _, status = observer.next("/status", timeout=15)
    adapter = status.get("adapter") if status["online"] else None
    return adapter if isinstance(adapter, dict) else None


def test_a_printer_adapter_on_another_database_refuses_and_names_the_first(
    kitchen: Kitchen,
    tmp_path: Path,
    printers: Callable[..., SimPrinter],
    mqtt_client: Callable[..., Mqtt],
) -> None:
    """Two adapters for one device on two databases would both print every ticket."""
    sim = printers()
    kitchen.add_device("p1", "grill")
    observer = _adapter_claim(kitchen, "p1", mqtt_client)
    first = kitchen.printer("p1", sim.port)
    assert first.proc is not None
    while (adapter := _next_adapter(observer)) is None:
        pass
    assert adapter["pid"] == first.proc.pid
    other = Kitchen(demo_database(tmp_path / "other" / "edgehub.db"), store=kitchen.store)
    other.add_device("p1", "grill")
    before = content(other.db)
    connect = f"tcp://127.0.0.1:{sim.port}"
    second = other.command("printer", "--device", "p1", "--connect", connect, **SHIPPED_CLAIM_WAIT)
    assert second.returncode == 4, second.stderr
    assert (
        f"the printer adapter of 'p1' already runs: pid {first.proc.pid} on "
        f"{socket.gethostname()} (database {kitchen.db})"
    ) in second.stderr
    assert content(other.db) == before
    assert first.alive()

    first.kill()  # no goodbye: the will says offline, which claims nothing
    while _next_adapter(observer) is not None:
        pass
    try:
        third = other.printer("p1", sim.port, **SHIPPED_CLAIM_WAIT)
        assert third.proc is not None
        while (adapter := _next_adapter(observer)) is None:
            pass
        assert adapter["pid"] == third.proc.pid
    finally:
        other.close()
