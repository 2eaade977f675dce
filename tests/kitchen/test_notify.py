"""The bridge and the printer adapter talk to systemd as their Type=notify units expect."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.kitchen import Kitchen, SimPrinter


@pytest.mark.parametrize("process", ["bridge", "printer"])
def test_ready_then_watchdog_then_stopping(
    process: str, kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """READY=1 once started, WATCHDOG=1 from the loop, STOPPING=1 on SIGTERM, then a clean exit."""
    kitchen.add_device("grill-1", "grill")
    args = ["bridge"]
    if process == "printer":
        args = ["printer", "--device", "grill-1", "--connect", f"tcp://127.0.0.1:{printers().port}"]
    sock_dir = Path(tempfile.mkdtemp(prefix="edgehub-notify-"))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_dir / "notify.sock"))
    listener.settimeout(0.2)
    env = kitchen._env({"NOTIFY_SOCKET": str(sock_dir / "notify.sock"), "WATCHDOG_USEC": "400000"})
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", *args], env=env)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and messages.count("WATCHDOG=1") < 2:
            try:
                messages.append(listener.recv(4096).decode())
            except TimeoutError:
                continue
        assert "READY=1" in messages
        assert messages.index("READY=1") < messages.index("WATCHDOG=1")
        proc.terminate()
        assert proc.wait(10) == 0
        while True:
            try:
                messages.append(listener.recv(4096).decode())
            except TimeoutError:
                break
        assert "STOPPING=1" in messages
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()
