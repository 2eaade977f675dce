"""``edgehub device login``: a device's own MQTT login and ACL, proven on a real broker."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.mqtt_credentials import CredentialError, Device, acl_block, set_password
from tests.ops.mosquitto import Client, acl_template, running_broker
from tests.support.hub_process import run_cli


@dataclass
class Store:
    code: str
    workdir: Path
    passwd: Path
    acl: Path
    bridge_password: str
    observer_password: str


def device_add(store: Store, *args: str) -> str:
    """Run the CLI as an operator would; returns the password it printed."""
    result = run_cli(
        store.workdir / "edgehub.db",
        "device",
        "login",
        *args,
        "--passwd-file",
        str(store.passwd),
        "--acl-file",
        str(store.acl),
        EDGEHUB_STORE=store.code,
    )
    assert result.returncode == 0, result.stderr
    match = re.search(r"^password: (\S+)$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    return match[1]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """The installed ACL and password file of a store, with the bridge and an observer."""
    code = f"t{uuid.uuid4().hex[:8]}"
    passwd, acl = tmp_path / "edgehub.passwd", tmp_path / "edgehub.acl"
    bridge, observer = uuid.uuid4().hex, uuid.uuid4().hex
    set_password(passwd, "edgehub-bridge", bridge)
    set_password(passwd, "test-observer", observer)
    acl.write_text(acl_template(code) + f"\nuser test-observer\ntopic read edgehub/{code}/#\n")
    return Store(code, tmp_path, passwd, acl, bridge, observer)


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


def test_a_device_cannot_publish_or_read_another_stations_topics(
    store: Store, clients: list[Client]
) -> None:
    """A grill screen must not bump the bar's orders nor see the bar's tickets."""
    password = device_add(store, "grill-kds-1", "--station", "grill")
    device_add(store, "bar-kds-1", "--station", "bar")
    with running_broker(store.workdir, store.passwd, store.acl) as port:
        device = Client(port, "grill-kds-1", password)
        bridge = Client(port, "edgehub-bridge", store.bridge_password)
        observer = Client(port, "test-observer", store.observer_password)
        clients.extend([device, bridge, observer])
        assert (device.reason, bridge.reason, observer.reason) == ("Success",) * 3
        prefix = f"edgehub/{store.code}"
        observer.subscribe(f"{prefix}/#")
        device.subscribe(f"{prefix}/kitchen/+/jobs")
        device.subscribe(f"{prefix}/kitchen/+/errors")
        # Refused first: a broker keeps one publisher's order, so anything let
        # through would arrive before the allowed message that follows it.
        for topic in (
            f"{prefix}/kitchen/bar/bump",
            f"{prefix}/kitchen/bar/jobs",
            f"{prefix}/devices/bar-kds-1/ack",
            f"{prefix}/orders/ready",
            f"{prefix}/kitchen/grill/bump",
        ):
            device.publish(topic, b"x")
        assert observer.next_message()[0] == f"{prefix}/kitchen/grill/bump"
        bridge.publish(f"{prefix}/kitchen/bar/jobs", b"bar")
        bridge.publish(f"{prefix}/kitchen/grill/jobs", b"grill")
        assert device.next_message() == (f"{prefix}/kitchen/grill/jobs", b"grill")
        # Why the hub refused its bump reaches it; the bar's refusals do not.
        bridge.publish(f"{prefix}/kitchen/bar/errors", b"bar")
        bridge.publish(f"{prefix}/kitchen/grill/errors", b"grill")
        assert device.next_message() == (f"{prefix}/kitchen/grill/errors", b"grill")


def test_adding_a_device_again_rotates_its_password_and_keeps_one_block(
    store: Store, clients: list[Client]
) -> None:
    """A lost or leaked password is replaced by running the same command again."""
    old = device_add(store, "grill-printer-1", "--station", "grill", "--kind", "printer")
    new = device_add(store, "grill-printer-1", "--station", "cold", "--kind", "printer")
    assert old != new
    text = store.acl.read_text()
    assert text.count("user grill-printer-1\n") == 1
    assert f"edgehub/{store.code}/kitchen/cold/jobs" in text
    assert f"\ntopic read edgehub/{store.code}/kitchen/grill/jobs" not in text
    assert text.startswith(acl_template(store.code).rstrip("\n"))  # the rest is untouched
    with running_broker(store.workdir, store.passwd, store.acl) as port:
        refused = Client(port, "grill-printer-1", old)
        accepted = Client(port, "grill-printer-1", new)
        clients.extend([refused, accepted])
        assert (refused.reason, accepted.reason) == ("Not authorized", "Success")


def test_acl_blocks_follow_the_installed_pattern() -> None:
    """A printer only reads jobs; a KDS also bumps and hears refusals; a board reads the list."""
    assert acl_block("demo", Device("p1", "printer", "grill")).splitlines()[1:] == [
        "user p1",
        "topic read edgehub/demo/kitchen/grill/jobs",
    ]
    assert acl_block("demo", Device("k1", "kds", "bar")).splitlines()[1:] == [
        "user k1",
        "topic read edgehub/demo/kitchen/bar/jobs",
        "topic write edgehub/demo/kitchen/bar/bump",
        "topic read edgehub/demo/kitchen/bar/errors",
    ]
    assert acl_block("demo", Device("b1", "board", None)).splitlines()[1:] == [
        "user b1",
        "topic read edgehub/demo/orders/ready",
    ]


def test_an_acl_block_is_never_written_without_the_stations_topics() -> None:
    """A printer that somehow lost its station fails loudly rather than get an empty block."""
    device = Device("p1", "printer", "grill")
    object.__setattr__(device, "station", None)  # past __post_init__'s check
    with pytest.raises(AssertionError):
        acl_block("demo", device)


def test_acl_blocks_match_the_examples_in_the_installed_acl() -> None:
    """``device login`` writes what the shipped ACL tells an installer to write by hand."""
    text = acl_template("demo")
    examples = [
        [line for line in block.splitlines() if line]
        for block in "\n".join(
            line[len("#   ") :] if line.startswith("#   ") else "" for line in text.splitlines()
        ).split("\n\n")
        if block.strip()
    ]
    assert examples == [
        acl_block("demo", Device("grill-kds-1", "kds", "grill")).splitlines()[1:],
        acl_block("demo", Device("board-1", "board", None)).splitlines()[1:],
    ]


@pytest.mark.parametrize(
    ("device_id", "kind", "station"),
    [
        ("a/b", "kds", "grill"),
        ("+", "kds", "grill"),
        ("#", "kds", "grill"),
        ("edgehub-bridge", "kds", "grill"),
        ("kds-1", "kds", "grill/#"),
        ("kds-1", "kds", "+"),
        ("kds-1", "kds", None),
        ("board-1", "board", "grill"),
        ("kds-1", "toaster", "grill"),
        ("kds 1", "kds", "grill"),
    ],
)
def test_names_that_would_widen_the_acl_are_refused(
    device_id: str, kind: str, station: str | None
) -> None:
    """``+``, ``#`` or ``/`` in a name would grant other topics; the bridge's login is taken."""
    with pytest.raises(CredentialError):
        Device(device_id, kind, station)


def test_the_cli_refuses_a_bad_device_without_touching_the_files(store: Store) -> None:
    """A typo must not leave half a login behind."""
    before = (store.passwd.read_bytes(), store.acl.read_bytes())
    result = run_cli(
        store.workdir / "edgehub.db",
        "device",
        "login",
        "grill/#",
        "--station",
        "grill",
        "--passwd-file",
        str(store.passwd),
        "--acl-file",
        str(store.acl),
    )
    assert result.returncode == 2 and "letters, digits" in result.stderr
    assert (store.passwd.read_bytes(), store.acl.read_bytes()) == before
