"""One bridge per store, one adapter per printer: a second copy refuses and names the first."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import demo_database
from tests.support.db_content import content
from tests.support.kitchen import Kitchen, SimPrinter, wait_until


def _run(kitchen: Kitchen, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=kitchen._env({}),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_second_bridge_refuses_and_names_the_first(kitchen: Kitchen) -> None:
    """Two bridges would take each other's MQTT client id every second: the second refuses."""
    first = kitchen.bridge()
    assert first.proc is not None
    before = content(kitchen.db)
    second = _run(kitchen, "bridge")
    assert second.returncode == 4, second.stderr
    assert f"the kitchen bridge of store '{kitchen.store}' already runs" in second.stderr
    assert f"pid {first.proc.pid} " in second.stderr
    assert "Only one may run per store" in second.stderr
    assert content(kitchen.db) == before
    assert first.alive()


def test_a_bridge_starts_again_after_the_first_was_killed(kitchen: Kitchen) -> None:
    """The lock dies with its process, even by SIGKILL: a restart is never kept out."""
    kitchen.bridge().kill()
    assert kitchen.bridge().alive()


def test_a_second_printer_adapter_for_one_device_refuses(
    kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """Two adapters on one printer would print every ticket twice."""
    sim = printers()
    kitchen.add_device("p1", "grill")
    first = kitchen.printer("p1", sim.port)
    assert first.proc is not None
    before = content(kitchen.db)
    second = _run(kitchen, "printer", "--device", "p1", "--connect", f"tcp://127.0.0.1:{sim.port}")
    assert second.returncode == 4, second.stderr
    assert "the printer adapter of 'p1' already runs" in second.stderr
    assert f"pid {first.proc.pid} " in second.stderr
    assert content(kitchen.db) == before
    status = _run(kitchen, "status")
    assert re.search(rf"printer p1 +│ running: EdgeHub \S+, pid {first.proc.pid}", status.stdout)


def test_a_client_id_takeover_is_logged_as_one(kitchen: Kitchen, tmp_path: Path) -> None:
    """A second database with the same store code (no shared lock file) is caught on the broker."""
    first = kitchen.bridge()
    other = Kitchen(demo_database(tmp_path / "other" / "edgehub.db"), store=kitchen.store)
    try:
        other.bridge()
        wait_until(
            lambda: (
                "mqtt_client_id_taken_over" in first.log_text()
                or "mqtt_client_id_taken_over" in other.processes[0].log_text()
            ),
            timeout=30,
            what="a takeover logged",
        )
        text = first.log_text() + other.processes[0].log_text()
        line = next(li for li in text.splitlines() if "mqtt_client_id_taken_over" in li)
        assert "ERROR" in line and f"edgehub-bridge-{kitchen.store}" in line
        assert re.search(r"second copy of this process", line)
    finally:
        other.close()
