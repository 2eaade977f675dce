"""systemd/install: valid bash, and a dry run that plans everything and changes nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.unitfile import SYSTEMD_DIR, unit_files

INSTALL = SYSTEMD_DIR / "install"
# Everything the script could change the system with. In a dry run none of
# them may run: they are replaced by stubs that record the call and fail.
MUTATORS = [
    *["groupadd", "useradd", "install", "chown", "chmod", "mkdir", "mktemp"],
    *["mv", "cp", "ln", "rm", "touch", "tee", "mosquitto_passwd", "systemctl"],
]
SYSTEM_PATHS = [
    Path("/etc/edgehub"),
    Path("/var/lib/edgehub"),
    Path("/opt/edgehub"),
    Path("/etc/mosquitto/edgehub.passwd"),
    Path("/etc/mosquitto/edgehub.acl"),
    Path("/etc/mosquitto/conf.d/edgehub.conf"),
    *(Path("/etc/systemd/system") / path.name for path in unit_files()),
]


def test_install_script_is_valid_bash() -> None:
    """A syntax error would surface halfway through installing a store."""
    subprocess.run(["bash", "-n", str(INSTALL)], check=True, timeout=30)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_install_script_passes_shellcheck() -> None:
    """Quoting slips in a root-run script are how a path with a space deletes the wrong thing."""
    result = subprocess.run(
        ["shellcheck", str(INSTALL)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout


def test_dry_run_plans_every_step_and_changes_nothing(tmp_path: Path) -> None:
    """--dry-run is how an operator reviews what a root script will do to the store box."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    calls = tmp_path / "calls"
    for name in MUTATORS:
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\nexit 97\n')
        stub.chmod(0o755)
    prefix = tmp_path / "opt" / "edgehub"
    before = {path: path.exists() for path in SYSTEM_PATHS}

    result = subprocess.run(
        [str(INSTALL), "--dry-run", "--prefix", str(prefix), "--python", sys.executable],
        env={"PATH": f"{stubs}:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert not calls.exists(), calls.read_text()
    assert not prefix.exists()
    assert {path: path.exists() for path in SYSTEM_PATHS} == before
    plan = result.stdout
    venv_python = f"{prefix}/.venv/bin/python"
    for step in [
        "+ install -d -m 0750 -o root -g edgehub /etc/edgehub",
        "+ install -d -m 0750 -o edgehub -g edgehub /var/lib/edgehub",
        f"{venv_python} -m pip install",
        *(f"+ write /etc/systemd/system/{path.name} (0644 root:root)" for path in unit_files()),
        " enable edgehub.target",
        "install: dry run: nothing was changed",
        "create the first admin",
        f"{prefix}/.venv/bin/edgehub user add admin --role admin",
    ]:
        assert step in plan
    assert "+ groupadd --system edgehub" in plan or "install: group edgehub exists" in plan
    assert "+ useradd --system" in plan or "install: user edgehub exists" in plan
    assert f"-m venv {prefix}/.venv" in plan or f"venv {prefix}/.venv exists" in plan
