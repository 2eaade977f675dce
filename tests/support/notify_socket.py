"""A fake systemd for ``Type=notify`` tests: a real AF_UNIX datagram socket as NOTIFY_SOCKET.

``notify_conversation`` runs an ``edgehub`` command under it, lets it ping the
watchdog twice, stops it with SIGTERM as systemd would, and returns every
message the process sent, in order. ``manager`` is the fixture for in-process
tests: a bound socket at $NOTIFY_SOCKET (``tests/conftest.py`` makes it
available everywhere).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

WATCHDOG_USEC = "400000"


@pytest.fixture
def manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A bound datagram socket at $NOTIFY_SOCKET, as systemd provides for Type=notify."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.delenv("WATCHDOG_USEC", raising=False)
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        yield sock


def notify_conversation(
    args: list[str],
    env: dict[str, str],
    *,
    while_running: Callable[[], None] | None = None,
    exit_code: int | None = 0,
) -> list[str]:
    """Messages ``edgehub *args`` sent to NOTIFY_SOCKET from start to SIGTERM."""
    sock_dir = Path(tempfile.mkdtemp(prefix="edgehub-notify-"))  # AF_UNIX paths are short
    path = sock_dir / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(0.2)
    env = {**env, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": WATCHDOG_USEC}
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", *args], env=env)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and messages.count("WATCHDOG=1") < 2:
            try:
                messages.append(listener.recv(4096).decode())
            except TimeoutError:
                continue
        if while_running is not None:
            while_running()
        proc.terminate()
        code = proc.wait(10)
        if exit_code is not None:
            assert code == exit_code, f"edgehub {args[0]} exited {code}"
        while True:
            try:
                messages.append(listener.recv(4096).decode())
            except TimeoutError:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()
        path.unlink(missing_ok=True)
        sock_dir.rmdir()
    return messages


def assert_ready_watchdog_stopping(messages: list[str]) -> None:
    """READY before the first WATCHDOG, and STOPPING at the end."""
    assert "READY=1" in messages, messages
    assert "WATCHDOG=1" in messages, messages
    assert messages.index("READY=1") < messages.index("WATCHDOG=1")
    assert "STOPPING=1" in messages, messages


def received(sock: socket.socket) -> list[str]:
    """Every message waiting on a bound notify socket, without blocking for more; the
    socket's timeout is what it was before."""
    timeout = sock.gettimeout()
    messages = []
    sock.setblocking(False)
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        return messages
    finally:
        sock.settimeout(timeout)
