"""The store's programs as child processes the suite can SIGKILL and start again.

Each ``edgehub`` command is started with the store's environment and waited
for the way systemd would: READY=1 on a notify socket (``serve`` is also
waited for on ``/health``). Mosquitto and Redis are private to the run, on
free ports, so a store's shared broker and cache are never touched.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import httpx

from faultsuite.local_http import TLS

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Running(Protocol):
    """The part of ``subprocess.Popen`` the suite drives."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def terminate(self) -> None: ...


# Starts ``edgehub ARGS`` with an environment, its output appended to a log.
Starter = Callable[[Sequence[str], dict[str, str], Path], Running]


def fresh_interpreter(args: Sequence[str], env: dict[str, str], log: Path) -> Running:
    """``edgehub ARGS`` in a new interpreter of this one's (the installed package's own)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", *args], env=env, stdout=out, stderr=out
        )


class Child:
    """One program: ``start()`` waits until it is ready, ``kill()`` is a SIGKILL.

    ``starter`` starts it (an ``edgehub`` command); without one, ``argv`` is run.
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log: Path,
        *,
        notify: bool = False,
        ready: Callable[[], bool] | None = None,
        starter: Starter | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.starter = starter
        self.env = env
        self.log = log
        self.notify = notify
        self.ready = ready
        self.proc: Running | None = None
        self.starts = 0

    def start(self, timeout: float = START_TIMEOUT) -> Child:
        listener = None
        env = dict(self.env)
        # AF_UNIX paths are short (108 bytes): the socket goes in a short temporary directory.
        sock_dir = Path(tempfile.mkdtemp(prefix="edgehub-notify-"))
        if self.notify:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            path = sock_dir / f"{uuid.uuid4().hex[:8]}.sock"
            listener.bind(str(path))
            listener.settimeout(0.1)
            env["NOTIFY_SOCKET"] = str(path)
        if self.starter is not None:
            self.proc = self.starter(self.argv, env, self.log)
        else:
            with self.log.open("ab") as out:
                self.proc = subprocess.Popen(self.argv, env=env, stdout=out, stderr=out)
        self.starts += 1
        deadline = time.monotonic() + timeout
        try:
            notified = not self.notify
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start:\n{self.tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not get ready:\n{self.tail()}")
                if listener is not None and not notified:
                    try:
                        notified = b"READY=1" in listener.recv(4096)
                    except TimeoutError:
                        continue
                if notified and (self.ready is None or self.ready()):
                    return self
                time.sleep(0.05)
        finally:
            if listener is not None:
                listener.close()
            shutil.rmtree(sock_dir, ignore_errors=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no goodbye to the broker, no clean close of SQLite."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def edgehub(
    name: str,
    args: list[str],
    env: dict[str, str],
    logs: Path,
    *,
    starter: Starter = fresh_interpreter,
    notify: bool = False,
    ready: Callable[[], bool] | None = None,
) -> Child:
    """An ``edgehub`` command, started by ``starter``."""
    log = logs / f"{name}.log"
    return Child(name, args, env, log, notify=notify, ready=ready, starter=starter)


def serve(
    name: str, port: int, env: dict[str, str], logs: Path, starter: Starter = fresh_interpreter
) -> Child:
    url = f"http://127.0.0.1:{port}/health"

    def healthy() -> bool:
        try:
            return httpx.get(url, timeout=1.0, verify=TLS).status_code == 200
        except httpx.HTTPError:
            return False

    args = ["serve", "--port", str(port)]
    return edgehub(name, args, env, logs, starter=starter, ready=healthy)


def mosquitto(port: int, workdir: Path) -> Child:
    """A broker of the run's own; like the store's, it keeps nothing across a restart."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    return Child(
        "mosquitto", [binary, "-c", str(conf)], {}, workdir / "mosquitto.log",
        ready=lambda: port_open(port),
    )  # fmt: skip


def redis_server(port: int, workdir: Path) -> Child:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return Child("redis", argv, {}, workdir / "redis.log", ready=lambda: port_open(port))
