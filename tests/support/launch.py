"""Start ``edgehub`` commands for tests: forked from a pre-imported interpreter, or fresh.

Why: a fresh ``python -m hub.cli`` spends 0.2 s (``edgehub status``) to 0.8 s
(``edgehub serve``) of CPU importing before it does anything, and the suite
starts about 400 of them on a two-core box: a third of the suite's CPU went on
importing the same modules again and again (timed by hand, not by ``bench/``:
docs/benchmarks.md, "Test suite"). So, by default, each test worker
keeps one fork server (multiprocessing's ``forkserver``) that has imported the
packages once, and each command is a fork of it.

The child is a real process of its own: its own pid, environment (TZ
included), working directory, stdin (/dev/null), stdout and stderr, exit
status and signals. It runs ``hub.cli`` as ``python -m hub.cli`` does
(``runpy``, as ``__main__``), its standard streams are made as the
interpreter makes them (``PYTHONUNBUFFERED`` included), and it ends as the
interpreter ends: the traceback of an uncaught exception, then non-daemon
threads joined, then atexit handlers, then the streams flushed; the exit code
of ``SystemExit``, 1 after an uncaught exception, ``-2`` after an unhandled
KeyboardInterrupt, ``-N`` when killed by signal N. SIGTERM, SIGKILL and a
crash mid-write behave as for a fresh interpreter, because they are the same
process calls. tests/hub/test_launch.py holds the two kinds of start to the
same output and status.

What a fork does not exercise is the import itself and the interpreter's own
start-up, and what that start-up fixes stays the fork server's (the test
run's): the seed of ``hash()`` (one per fork server, so str hashes and set
order repeat from command to command where fresh ones vary), the locale and
the other ``PYTHON*`` variables, ``sys.path`` (the test worker's, not the
command's working directory first), and whatever a pre-imported module read
from the environment at import (websockets' ``USER_AGENT``, structlog's
``NO_COLOR``; none of ours does). Its parent is the fork server (``getppid``,
``/proc/PID/cmdline``), ``multiprocessing`` knows it as a child process, and it
holds a few descriptors of multiprocessing's (pipes to the fork server and its
resource tracker) beside 0-2.
The tests of those start fresh interpreters: ``fresh=True`` here
(``serve --workers``, whose workers uvicorn spawns with ``sys.executable``
anyway), tests/hub/test_layers.py's import probes, test_lean_imports.py,
the start-up timings, and tests/support/notify_socket.py's conversations with
systemd's notify socket, which hold a service's whole start to READY=1.
``EDGEHUB_TEST_FRESH_STARTS=1`` in the test run's environment makes every
command a fresh interpreter, as before.
"""

from __future__ import annotations

import atexit
import io
import locale
import multiprocessing
import os
import runpy
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

# Everything a command may import before it does its work: the fork server
# imports these once. A module missing here is still imported by the child
# that needs it, at the usual cost.
PRELOAD = (
    "hub.cli",
    "hub.web.serve",
    "hub.web.app",
    "hub.web.realtime.fastpath",
    "firmware_bridge.bridge",
    "firmware_bridge.printer",
    "cloud_sync.daemon",
    "httpx",
    "sqlite_utils",
)

EDGEHUB = "hub.cli"  # what ``edgehub`` runs

FRESH_STARTS = os.environ.get("EDGEHUB_TEST_FRESH_STARTS") == "1"


class Command(Protocol):
    """The part of ``subprocess.Popen`` the tests use, for either kind of start."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class ForkedCommand:
    """A command forked from the fork server, driven like a ``Popen``."""

    def __init__(self, process: multiprocessing.process.BaseProcess, args: Sequence[str]) -> None:
        self._process = process
        self.args = list(args)

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


# Every forked command until it has ended, whether or not its test still holds it.
_running: set[multiprocessing.process.BaseProcess] = set()
_context: multiprocessing.context.ForkServerContext | None = None


def _fork_server() -> multiprocessing.context.ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        atexit.register(_kill_leftovers)  # runs before multiprocessing joins its children
        _context = context
    return _context


def _kill_leftovers() -> None:
    """A test that forgot a daemon must not hang the worker's exit (multiprocessing
    joins every child it started); a ``Popen`` would have been left running."""
    for process in list(_running):
        if process.exitcode is None:
            process.kill()


def _reopen(fd: int, path: str, flags: int) -> None:
    target = os.open(path, flags, 0o644)
    if target != fd:
        os.dup2(target, fd)
        os.close(target)


def _run_module(
    module: str, args: list[str], env: dict[str, str], cwd: str, out: str, err: str
) -> None:
    """In the child: become ``python -m MODULE ARGS`` with this environment, to its exit."""
    with open("/proc/self/comm", "w") as comm:  # `ps -o comm` tells the commands apart
        comm.write(" ".join(_argv(module, args)[:2])[:15])
    os.environ.clear()
    os.environ.update(env)
    time.tzset()  # local time follows TZ, as it would from the start
    os.chdir(cwd)
    append = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    _reopen(0, os.devnull, os.O_RDONLY)
    _reopen(1, out, append)
    _reopen(2, err, append)
    _standard_streams(unbuffered=bool(env.get("PYTHONUNBUFFERED")))
    sys.argv = ["-m", *args]
    # As in a fresh `python -m`: the module runs as __main__ only, and
    # whoever imports it later gets a copy of their own.
    sys.modules.pop(module, None)
    sys.modules["__main__"] = types.ModuleType("__main__")
    os._exit(_as_python_m(module))  # multiprocessing's own ending is not the interpreter's


def _standard_streams(*, unbuffered: bool) -> None:
    """New ``sys.stdin``, ``stdout`` and ``stderr`` over descriptors 0-2, made as the
    interpreter makes them at its start (``create_stdio`` in CPython's pylifecycle.c):
    buffered, stderr flushed at each line, with ``PYTHONUNBUFFERED`` written through;
    encoding and errors as the fork server's own streams have them (same locale)."""
    made = {"stdin": sys.__stdin__, "stdout": sys.__stdout__, "stderr": sys.__stderr__}
    for fd, name in enumerate(made):
        reading = fd == 0
        unbuffered_here = unbuffered and not reading  # stdin stays buffered for read1()
        buffer = open(  # noqa: SIM115
            fd, "rb" if reading else "wb", buffering=0 if unbuffered_here else -1, closefd=False
        )
        raw = buffer if unbuffered_here else buffer.raw
        raw.name = f"<{name}>"
        model = made[name]
        stream = io.TextIOWrapper(
            buffer,
            encoding=model.encoding if model else locale.getpreferredencoding(False),
            errors="backslashreplace" if fd == 2 else (model.errors if model else "strict"),
            newline="\n",
            line_buffering=not unbuffered and (raw.isatty() or fd == 2),
            write_through=unbuffered,
        )
        stream.mode = "r" if reading else "w"
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _as_python_m(module: str) -> int:
    """Run ``module`` as ``__main__`` and end as the interpreter ends (Py_RunMain): the
    uncaught exception reported, then non-daemon threads joined, then the atexit
    handlers, then the streams flushed; the exit status, or death by SIGINT after an
    unhandled KeyboardInterrupt."""
    interrupted = False
    try:
        runpy._run_module_as_main(module)  # type: ignore[attr-defined]  # what `-m` calls
        code = 0
    except SystemExit as exc:
        code = _exit_status(exc)
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        # The report starts where the interpreter's does, at runpy's frame, not ours.
        if exc.__traceback__ is not None:
            exc.__traceback__ = exc.__traceback__.tb_next
        sys.excepthook(type(exc), exc, exc.__traceback__)
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = 120  # as Py_FinalizeEx has it
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return code


def _exit_status(exc: SystemExit) -> int:
    """What the interpreter makes of ``sys.exit(code)``: None is 0, a number is itself,
    anything else is printed to stderr and is 1."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _argv(module: str, args: Sequence[str]) -> list[str]:
    """``["edgehub", "serve"]``, or the module's own name for another program."""
    return ["edgehub" if module == EDGEHUB else module.rpartition(".")[2], *args]


def start(
    args: Sequence[str],
    env: Mapping[str, str],
    stdout: Path,
    stderr: Path | None = None,
    *,
    cwd: Path | None = None,
    fresh: bool = False,
    module: str = EDGEHUB,
) -> Command:
    """Start ``edgehub ARGS`` with ``env`` in ``cwd`` (default: ours), its output
    appended to ``stdout`` and ``stderr`` (default: the same file); ``module``:
    ``python -m MODULE ARGS`` instead (tests/hub/test_launch.py's probes)."""
    err = stderr or stdout
    if fresh or FRESH_STARTS:
        with stdout.open("ab") as out, err.open("ab") as error:
            return subprocess.Popen(
                [sys.executable, "-m", module, *args],
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=error,
            )
    process = _fork_server().Process(
        target=_run_module,
        args=(module, list(args), dict(env), str(cwd or os.getcwd()), str(stdout), str(err)),
        name=" ".join(_argv(module, args))[:48],
    )
    _running.difference_update([p for p in _running if p.exitcode is not None])
    process.start()
    _running.add(process)
    return ForkedCommand(process, _argv(module, args))


def run(
    args: Sequence[str],
    env: Mapping[str, str],
    timeout: float,
    *,
    cwd: Path | None = None,
    fresh: bool = False,
    module: str = EDGEHUB,
) -> subprocess.CompletedProcess[str]:
    """``edgehub ARGS`` (or ``python -m MODULE ARGS``) to its end, its output captured as
    text (``subprocess.run``'s shape)."""
    with tempfile.TemporaryDirectory(prefix="edgehub-run-") as tmp:
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        command = start(args, env, out, err, cwd=cwd, fresh=fresh, module=module)
        try:
            code = command.wait(timeout)
        except subprocess.TimeoutExpired:
            command.kill()
            command.wait()
            raise
        encoding = locale.getpreferredencoding(False)
        return subprocess.CompletedProcess(
            _argv(module, args),
            code,
            out.read_text(encoding) if out.exists() else "",
            err.read_text(encoding) if err.exists() else "",
        )
