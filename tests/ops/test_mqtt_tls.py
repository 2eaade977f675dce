"""MQTT over TLS on a real Mosquitto: the installed snippet's TLS listener, a throwaway store CA.

Each test starts its own broker with the plain listener of systemd/mosquitto/
edgehub.conf and the TLS lines an installer uncomments (tests/ops/mosquitto.py),
serving a certificate for localhost and 127.0.0.1 signed by a CA made in
``tmp_path`` (tests/ops/certificates.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware_bridge import mqtt as mqtt_module
from firmware_bridge.mqtt import MqttLink
from hub.broker_url import BadCaFile, MqttUrl
from hub.health import Probes
from hub.mqtt_credentials import set_password
from hub.settings import Settings
from hub.status import _broker
from tests.conftest import demo_database
from tests.ops.certificates import BrokerFiles, CertificateAuthority
from tests.ops.mosquitto import acl_template, running_ports, snippet_tls_lines
from tests.ops.unitfile import SYSTEMD_DIR
from tests.support.hub_process import run_cli
from tests.support.kitchen import wait_until_async

USER = "tls-tester"
TIMEOUT = 5.0


@dataclass(frozen=True)
class TlsBroker:
    port: int
    store: str
    password: str
    files: BrokerFiles

    def url(self, user: str | None = USER, host: str = "127.0.0.1") -> MqttUrl:
        login = f"{user}:{self.password}@" if user else ""
        return MqttUrl.parse(f"mqtts://{login}{host}:{self.port}")


@contextmanager
def running_tls_broker(workdir: Path, files: BrokerFiles) -> Iterator[TlsBroker]:
    """The installed snippet plus its TLS lines, serving ``files``; one login, own topics."""
    store = f"t{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    passwd, acl = workdir / "edgehub.passwd", workdir / "edgehub.acl"
    set_password(passwd, USER, password)
    acl.write_text(acl_template(store) + f"\nuser {USER}\ntopic readwrite edgehub/{store}/#\n")
    with running_ports(workdir, passwd, acl, tls=files) as ports:
        assert ports.tls is not None
        yield TlsBroker(ports.tls, store, password, files)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TlsBroker]:
    """A broker whose TLS listener presents a certificate for localhost and 127.0.0.1."""
    with running_tls_broker(tmp_path, CertificateAuthority(tmp_path / "ca").issue_broker()) as b:
        yield b


def link(url: MqttUrl, ca_file: Path | None) -> MqttLink:
    return MqttLink(url, client_id=f"tls-test-{uuid.uuid4().hex[:8]}", ca_file=ca_file)


async def eventually(predicate: Callable[[], bool], what: str) -> None:
    await wait_until_async(predicate, TIMEOUT, what)


async def connect_or_fail(mqtt: MqttLink, caplog: pytest.LogCaptureFixture, event: str) -> bool:
    """Start the link; True once connected, False once ``event`` is logged."""
    mqtt.start()
    await eventually(lambda: mqtt.connected or bool(fields(caplog, event)), f"connected or {event}")
    return mqtt.connected


def fields(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, object]]:
    return [r.__dict__["fields"] for r in caplog.records if r.getMessage() == event]


# --- the URL ------------------------------------------------------------------------------


def test_mqtts_url_means_tls_on_8883() -> None:
    """An installer writes mqtts://host; the link must then speak TLS on the TLS port."""
    url = MqttUrl.parse("mqtts://edgehub-bridge:s%40cret@broker.lan")
    assert (url.tls, url.port, url.password) == (True, 8883, "s@cret")
    assert str(url) == "mqtts://edgehub-bridge@broker.lan:8883"
    plain = MqttUrl.parse("mqtt://broker.lan")
    assert (plain.tls, plain.port, str(plain)) == (False, 1883, "mqtt://broker.lan:1883")
    with pytest.raises(ValueError, match=r"mqtt\[s\]://"):
        MqttUrl.parse("ssl://broker.lan")


def test_empty_ca_setting_means_the_system_trust_store() -> None:
    """``EDGEHUB_MQTT_CA_FILE=`` in an env file must not become the current directory."""
    assert Settings(mqtt_ca_file="").mqtt.ca_file is None


def test_ca_file_with_a_plain_url_is_flagged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A CA file next to mqtt:// means someone forgot the "s": the traffic is not encrypted."""
    with caplog.at_level(logging.WARNING, logger="edgehub.mqtt"):
        link(MqttUrl.parse("mqtt://127.0.0.1:1883"), tmp_path / "ca.pem")
    assert fields(caplog, "mqtt_ca_file_unused") == [
        {"broker": "mqtt://127.0.0.1:1883", "tls": False}
    ]


# --- the link -----------------------------------------------------------------------------


def test_link_over_tls_with_the_store_ca_round_trips(
    broker: TlsBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """The kitchen's jobs and acks travel the encrypted listener exactly as the plain one."""
    topic = f"edgehub/{broker.store}/tls/{uuid.uuid4().hex[:6]}"

    async def main() -> bytes:
        received: asyncio.Queue[bytes] = asyncio.Queue()
        mqtt = link(broker.url(), broker.files.ca)
        mqtt.subscribe(topic, lambda _t, payload: received.put_nowait(payload))
        try:
            assert await connect_or_fail(mqtt, caplog, "mqtt_tls_failed")
            await mqtt.publish(topic, b"over tls")  # returns once the PUBACK is in
            return await asyncio.wait_for(received.get(), TIMEOUT)
        finally:
            await mqtt.stop()

    with caplog.at_level(logging.INFO, logger="edgehub.mqtt"):
        assert asyncio.run(main()) == b"over tls"
    assert (
        fields(caplog, "mqtt_connected")[0]["broker"] == f"mqtts://{USER}@127.0.0.1:{broker.port}"
    )


def test_link_refuses_a_broker_its_ca_did_not_sign(
    broker: TlsBroker,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Someone else's broker on the store LAN must not receive the kitchen's login or tickets."""
    stranger = CertificateAuthority(tmp_path / "other", name="not the store's CA")
    monkeypatch.setattr(mqtt_module, "RECONNECT_MIN_SECONDS", 0.05)  # paho's wait: 1 s, then 2

    async def main() -> MqttLink:
        mqtt = link(broker.url(), stranger.cert)
        try:
            assert not await connect_or_fail(mqtt, caplog, "mqtt_tls_failed")
            # It keeps trying, as after any failed connect, and says the same at DEBUG.
            await eventually(lambda: len(fields(caplog, "mqtt_tls_failed")) >= 2, "a retry")
        finally:
            await mqtt.stop()
        return mqtt

    with caplog.at_level(logging.DEBUG, logger="edgehub.mqtt"):
        mqtt = asyncio.run(main())
    failures = [r for r in caplog.records if r.getMessage() == "mqtt_tls_failed"]
    assert [r.levelno for r in failures[:2]] == [logging.ERROR, logging.DEBUG]
    error = str(fields(caplog, "mqtt_tls_failed")[0]["error"])
    assert "SSLCertVerificationError" in error and "certificate verify failed" in error
    assert mqtt.connects == 0 and not fields(caplog, "mqtt_connected")


def test_link_refuses_a_certificate_for_another_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A store CA's certificate for another box does not pass for the broker's: names count."""
    ca = CertificateAuthority(tmp_path / "ca")

    async def main(broker: TlsBroker) -> None:
        mqtt = link(broker.url(), broker.files.ca)
        try:
            assert not await connect_or_fail(mqtt, caplog, "mqtt_tls_failed")
        finally:
            await mqtt.stop()

    with (
        running_tls_broker(tmp_path, ca.issue_broker(hosts=("till-3.store.lan",))) as broker,
        caplog.at_level(logging.INFO, logger="edgehub.mqtt"),
    ):
        asyncio.run(main(broker))
    assert "mismatch" in str(fields(caplog, "mqtt_tls_failed")[0]["error"])


def test_tls_listener_still_requires_a_login(
    broker: TlsBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """The TLS lines add encryption, not a way around the passwords and the ACL."""

    async def main() -> None:
        mqtt = link(broker.url(user=None), broker.files.ca)
        try:
            assert not await connect_or_fail(mqtt, caplog, "mqtt_refused")
        finally:
            await mqtt.stop()

    with caplog.at_level(logging.INFO, logger="edgehub.mqtt"):
        asyncio.run(main())
    assert fields(caplog, "mqtt_refused")[0]["reason"] == "Not authorized"


def test_missing_or_bogus_ca_file_fails_the_link_at_once(broker: TlsBroker, tmp_path: Path) -> None:
    """A typo in the CA path must stop the process, not retry a handshake that cannot succeed."""
    with pytest.raises(BadCaFile, match=r"missing\.pem does not exist"):
        link(broker.url(), tmp_path / "missing.pem")
    with pytest.raises(BadCaFile, match="holds no PEM certificate"):
        link(broker.url(), broker.files.key)


@pytest.mark.parametrize("process", ["bridge", "printer"])
def test_bad_ca_file_is_a_startup_error_naming_the_setting(tmp_path: Path, process: str) -> None:
    """The unit fails at start with the variable to fix, instead of logging TLS errors forever."""
    args = [process]
    if process == "printer":
        args += ["--device", "grill-1", "--station", "grill", "--connect", "tcp://127.0.0.1:9"]
    url = "mqtts://edgehub-bridge:x@127.0.0.1:8883"
    (tmp_path / "empty.pem").write_text("")
    db = demo_database(tmp_path / "edgehub.db")  # the bridge refuses a missing database first
    for ca_file, why in (("missing.pem", "does not exist"), ("empty.pem", "no PEM certificate")):
        result = run_cli(
            db,
            *args,
            EDGEHUB_MQTT_URL=url,
            EDGEHUB_MQTT_CA_FILE=str(tmp_path / ca_file),
        )
        assert result.returncode == 2
        assert "EDGEHUB_MQTT_CA_FILE" in result.stderr and why in result.stderr


# --- the hub's own look at the broker -------------------------------------------------------


def test_health_probe_verifies_an_mqtts_broker(broker: TlsBroker, tmp_path: Path) -> None:
    """/health says the broker is down when the kitchen could not get past its certificate."""
    stranger = CertificateAuthority(tmp_path / "other")

    def probe(ca: Path) -> tuple[str, str | None]:
        settings = Settings(mqtt_url=str(broker.url()).replace(USER + "@", ""), mqtt_ca_file=ca)
        result = asyncio.run(Probes(settings).mqtt_probe())
        return result.status, result.error

    assert probe(broker.files.ca) == ("ok", None)
    assert probe(stranger.cert) == ("down", "SSLCertVerificationError")
    assert probe(tmp_path / "missing.pem") == ("down", "BadCaFile")


def test_status_verifies_an_mqtts_broker(broker: TlsBroker, tmp_path: Path) -> None:
    """`edgehub status` tells the person at the box why the kitchen cannot connect."""
    stranger = CertificateAuthority(tmp_path / "other")
    url = f"mqtts://127.0.0.1:{broker.port}"
    ok = _broker(Settings(mqtt_url=url, mqtt_ca_file=broker.files.ca))
    assert ok == f"ok (127.0.0.1:{broker.port}, TLS)"
    refused = _broker(Settings(mqtt_url=url, mqtt_ca_file=stranger.cert))
    assert refused.startswith("[red]down[/red]") and "certificate verify failed" in refused
    missing = _broker(Settings(mqtt_url=url, mqtt_ca_file=tmp_path / "missing.pem"))
    assert "unusable" in missing and "does not exist" in missing


def test_readme_turns_on_the_snippets_tls_lines() -> None:
    """The how-to must name the files the snippet names, or Mosquitto will not start."""
    assert "\n".join(snippet_tls_lines()) in (SYSTEMD_DIR / "README.md").read_text()
