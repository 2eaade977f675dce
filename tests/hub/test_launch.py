"""The test launcher's forked commands behave as fresh interpreters do (tests/support/launch.py).

Most tests start ``edgehub`` forked from a pre-imported interpreter to save
the import; this holds the two kinds of start to the same output, exit codes,
working directory, environment and signals, so a test passing forked would
pass fresh.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.conftest import demo_database
from tests.support import launch, local_http
from tests.support.hub_process import free_port, hub_env
from tests.support.kitchen import wait_until


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_database(tmp_path_factory.mktemp("launch") / "edgehub.db")


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["user", "list"],
        ["user", "add", "x", "--role", "nobody", "--pin", "1"],  # argparse refuses: 2
        ["status"],
    ],
)
def test_forked_and_fresh_commands_print_and_exit_alike(db: Path, args: list[str]) -> None:
    env = hub_env(db)
    fresh = launch.run(args, env, timeout=60, fresh=True)
    forked = launch.run(args, env, timeout=60)
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )


def test_a_missing_database_is_refused_alike(tmp_path: Path) -> None:
    env = hub_env(tmp_path / "typo" / "edgehub.db")
    fresh = launch.run(["token", "admin"], env, timeout=60, fresh=True)
    forked = launch.run(["token", "admin"], env, timeout=60)
    assert fresh.returncode == forked.returncode == 2
    assert forked.stderr == fresh.stderr
    assert not (tmp_path / "typo").exists()


def test_the_environment_and_directory_are_the_commands_own(tmp_path: Path) -> None:
    """Not the test worker's: a relative EDGEHUB_DB resolves against the given directory."""
    env = {**hub_env(Path("unused")), "EDGEHUB_DB": "edgehub.db"}
    for fresh in (True, False):
        result = launch.run(["token", "admin"], env, timeout=60, cwd=tmp_path, fresh=fresh)
        assert result.returncode == 2
        assert f"no database at {tmp_path / 'edgehub.db'}" in result.stderr


def serving(command: launch.Command, port: int, log: Path) -> bool:
    """The hub on ``port`` answers /health; it must not have ended before it does."""
    assert command.poll() is None, log.read_text()
    try:
        return local_http.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("fresh", [True, False], ids=["fresh", "forked"])
def test_signals_end_a_served_hub_as_they_would(db: Path, tmp_path: Path, fresh: bool) -> None:
    """Reported as ``Popen.returncode`` does: SIGTERM ends it with -15 (uvicorn shuts
    down cleanly, then raises the signal again), SIGINT with -2 (raised again, it is
    an unhandled KeyboardInterrupt, and the interpreter ends by SIGINT), SIGKILL with -9."""
    log = tmp_path / "serve.log"
    log.touch()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
        port = free_port()
        command = launch.start(["serve"], hub_env(db, EDGEHUB_PORT=str(port)), log, fresh=fresh)
        wait_until(partial(serving, command, port, log), timeout=60, what="the hub's /health")
        command.send_signal(sig)
        assert command.wait(30) == -sig, log.read_text()[-2000:]
        log.write_text("")


PROBE = "tests.support.launch_probe"


@pytest.mark.parametrize(
    ("what", "env"),
    [
        ("crash", {}),
        ("thread-then-atexit", {}),
        ("interrupt", {}),
        ("streams", {"PYTHONUNBUFFERED": ""}),
        ("streams", {"PYTHONUNBUFFERED": "1"}),
        ("local-time", {"TZ": "Asia/Tokyo"}),
    ],
)
def test_a_forked_program_ends_and_writes_as_a_fresh_one(what: str, env: dict[str, str]) -> None:
    """How it exits (a traceback, threads joined before atexit, -2 after an unhandled
    SIGINT), its standard streams and its local time are the interpreter's, not
    multiprocessing's nor the fork server's."""
    env = {**os.environ, **env}
    fresh = launch.run([what], env, timeout=60, fresh=True, module=PROBE)
    forked = launch.run([what], env, timeout=60, module=PROBE)
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )


def test_a_command_left_running_does_not_hold_up_the_workers_exit() -> None:
    """A test worker that let go of a running command's handle still exits at once;
    the command is killed then rather than waited for."""
    script = f"""
import gc, os
from tests.support import launch
command = launch.start(["linger"], os.environ, launch.Path(os.devnull), module="{PROBE}")
print(command.pid, flush=True)
del command
gc.collect()
"""
    root = Path(__file__).parents[2]
    # Forked even in a run with fresh starts: a Popen is left running on purpose.
    env = {k: v for k, v in os.environ.items() if k != "EDGEHUB_TEST_FRESH_STARTS"}
    started = time.monotonic()
    worker = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert worker.returncode == 0, worker.stderr
    assert time.monotonic() - started < 20
    pid = int(worker.stdout)
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=10, what="the command's end")
