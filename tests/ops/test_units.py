"""The systemd units: valid to systemd itself, hardened, and wired to edgehub.target."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ops.unitfile import (
    INSTALLED_EXEC,
    SYSTEMD_DIR,
    parse,
    service_files,
    unit_files,
    words,
)

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze missing (apt-get install systemd)",
)

HARDENING = {
    "User": "edgehub",
    "StateDirectory": "edgehub",
    "UMask": "0077",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallFilter": "@system-service",
    "EnvironmentFile": "-/etc/edgehub/edgehub.env",
}


def ids(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


@pytest.fixture
def checkable_units(tmp_path: Path) -> Path:
    """Copies of the units whose ExecStart= names an executable that exists here.

    ``systemd-analyze verify`` refuses a unit whose binary is missing, and the
    venv under /opt only exists on an installed box. The files in systemd/
    stay as they are.
    """
    stub = tmp_path / "edgehub"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for path in unit_files():
        (units / path.name).write_text(path.read_text().replace(INSTALLED_EXEC, str(stub)))
    return units


def instance_name(path: Path) -> str:
    """A template is checked through an instance, as systemd would load it."""
    return path.name.replace("@.", "@kitchen-1.")


@needs_systemd_analyze
@pytest.mark.parametrize("path", unit_files(), ids=ids(unit_files()))
def test_unit_passes_systemd_analyze_verify(checkable_units: Path, path: Path) -> None:
    """A unit systemd cannot parse fails at boot in the store, not in review."""
    result = subprocess.run(
        ["systemd-analyze", "verify", f"./{instance_name(path)}"],
        cwd=checkable_units,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify exits 0 after "Unknown key ..., ignoring": a warning is a failure here.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@needs_systemd_analyze
@pytest.mark.parametrize("path", service_files(), ids=ids(service_files()))
def test_service_exposure_stays_low(checkable_units: Path, path: Path) -> None:
    """The box sits on a shop LAN; systemd's own exposure score must stay at "OK" (<= 2.0)."""
    result = subprocess.run(
        [
            *["systemd-analyze", "security", "--offline=true", "--threshold=20"],
            *["--no-pager", f"./{instance_name(path)}"],
        ],
        cwd=checkable_units,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout.splitlines()[-1:]


@pytest.mark.parametrize("path", service_files(), ids=ids(service_files()))
def test_service_is_hardened(path: Path) -> None:
    """One service left unhardened is all an attacker on the store LAN needs."""
    service = parse(path)["Service"]
    # The first value: the printer adds its own EnvironmentFile= after the shared one.
    found = {key: service.get(key, ["<missing>"])[0] for key in HARDENING}
    assert found == HARDENING


@pytest.mark.parametrize("path", service_files(), ids=ids(service_files()))
def test_service_notifies_and_restarts_on_failure(path: Path) -> None:
    """Readiness and a watchdog are how a hung hub gets restarted instead of ignored."""
    service = parse(path)["Service"]
    assert service["Type"] == ["notify"]
    assert service["NotifyAccess"] == ["main"]
    assert service["WatchdogSec"] and service["WatchdogSec"] != ["0"]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartSec"]


@pytest.mark.parametrize("path", service_files(), ids=ids(service_files()))
def test_service_starts_the_installed_edgehub(path: Path) -> None:
    """systemd/install rewrites exactly this path when --prefix moves the venv."""
    exec_start = parse(path)["Service"]["ExecStart"]
    assert len(exec_start) == 1
    assert exec_start[0].startswith(INSTALLED_EXEC + " ")


@pytest.mark.parametrize("path", unit_files(), ids=ids(unit_files()))
def test_redis_and_mosquitto_are_wanted_never_required(path: Path) -> None:
    """The hub must keep trading when Redis or Mosquitto is down, so nothing may require them."""
    unit = parse(path)
    hard = words(unit, "Unit", "Requires") + words(unit, "Unit", "BindsTo")
    assert not {"redis-server.service", "mosquitto.service"} & set(hard)
    wanted = set(words(unit, "Unit", "Wants"))
    ordered = set(words(unit, "Unit", "After"))
    assert wanted & {"redis-server.service", "mosquitto.service"}
    if path.suffix == ".service":
        assert wanted <= ordered, "a wanted broker or cache must also be started first"


def test_target_pulls_in_every_process() -> None:
    """`systemctl start edgehub.target` must start the whole store, printers included."""
    target = parse(SYSTEMD_DIR / "edgehub.target")
    wanted = set(words(target, "Unit", "Wants"))
    assert {"edgehub-serve.service", "edgehub-bridge.service", "edgehub-sync.service"} <= wanted
    assert words(target, "Install", "WantedBy") == ["multi-user.target"]
    printer = parse(SYSTEMD_DIR / "edgehub-printer@.service")
    assert words(printer, "Install", "WantedBy") == ["edgehub.target"]
    for path in service_files():
        assert words(parse(path), "Unit", "PartOf") == ["edgehub.target"], path.name


def test_printer_instance_reads_its_own_env_file() -> None:
    """Each printer's address and MQTT login come from its own file, after the shared one."""
    printer = parse(SYSTEMD_DIR / "edgehub-printer@.service")["Service"]
    assert printer["EnvironmentFile"] == [
        "-/etc/edgehub/edgehub.env",
        "/etc/edgehub/printer-%i.env",
    ]
    assert "--device %i" in printer["ExecStart"][0]
    assert "--connect ${EDGEHUB_PRINTER_CONNECT}" in printer["ExecStart"][0]
