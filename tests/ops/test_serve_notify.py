"""``edgehub serve`` tells systemd it is ready only once it answers, and pings the watchdog."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import demo_database
from tests.support.hub_process import free_port, hub_env


def test_serve_sends_ready_then_watchdog_then_stopping(tmp_path: Path) -> None:
    """READY=1 arrives when /health answers, WATCHDOG=1 follows, STOPPING=1 on SIGTERM."""
    db = demo_database(tmp_path / "edgehub.db")
    sock_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.settimeout(0.2)
    port = free_port()
    env = hub_env(db, EDGEHUB_PORT=str(port), NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="400000")
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "serve"], env=env)
    env["WATCHDOG_PID"] = str(proc.pid)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and messages.count("WATCHDOG=1") < 2:
            try:
                messages.append(listener.recv(4096).decode())
            except TimeoutError:
                continue
        assert "READY=1" in messages
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        assert messages.index("READY=1") < messages.index("WATCHDOG=1")
        proc.terminate()
        proc.wait(10)
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
        os.environ.pop("NOTIFY_SOCKET", None)
