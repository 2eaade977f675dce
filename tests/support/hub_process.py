"""A real ``edgehub serve`` in a child process, on a free port, with its own SQLite file.

Tests talk to it over real HTTP, exactly as a till does, and may kill it with
SIGKILL to prove that what it acknowledged survives.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.support import launch, local_http

# PBKDF2 at full strength costs ~60 ms a login; tests log in a lot.
FAST_HASH = "1000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hub_env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEHUB_")}
    env.update(
        EDGEHUB_DB=str(db),
        EDGEHUB_PIN_HASH_ITERATIONS=FAST_HASH,
        EDGEHUB_LOG_LEVEL="warning",
        EDGEHUB_MQTT_URL="",
    )
    env.update(extra)  # a test may override any of the above
    return env


def run_cli(db: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``edgehub ARGS`` against ``db`` to its end (forked: tests/support/launch.py)."""
    return launch.run(args, hub_env(db, **extra), timeout=60)


class HubProcess:
    """One served hub; ``start()`` waits until /health answers."""

    def __init__(self, db: Path, *args: str, **extra_env: str) -> None:
        """``args`` go to ``edgehub serve`` (e.g. ``--workers``), ``extra_env`` to its env."""
        self.db = db
        self.args = args
        self.extra_env = extra_env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: launch.Command | None = None
        self.log = db.with_suffix(f".{self.port}.log")

    def start(self, timeout: float = 60.0) -> HubProcess:
        """A ceiling, not a wait: a hub is up in a second or two, but with the suite's
        workers (scripts/test) sharing two cores a start can take many times that."""
        env = hub_env(self.db, EDGEHUB_PORT=str(self.port), **self.extra_env)
        # `serve --workers N`: uvicorn spawns fresh workers; start the parent fresh too.
        fresh = "--workers" in self.args
        self.proc = launch.start(["serve", *self.args], env, self.log, fresh=fresh)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if local_http.get(self.url + "/health", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()  # else it outlives the test that gave up on it
        raise RuntimeError(f"hub did not become healthy:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush, like a power cut of the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
