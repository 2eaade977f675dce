"""A program for tests/hub/test_launch.py: ``python -m tests.support.launch_probe WHAT``.

Each ``WHAT`` does one thing a fresh interpreter answers for in a way a test
could see (how it ends, what its streams are), so a forked start of it can be
held to a fresh one's output and exit status.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import time


def _crash() -> None:
    atexit.register(print, "atexit handler ran", file=sys.stderr)
    raise RuntimeError("the probe crashed")


def _thread_then_atexit() -> None:
    """The interpreter joins a running thread before it runs the atexit handlers."""

    def later() -> None:
        time.sleep(0.3)
        print("thread finished", file=sys.stderr)

    threading.Thread(target=later).start()
    atexit.register(print, "atexit handler ran", file=sys.stderr)
    atexit.register(lambda: print("__main__ at exit:", sys.modules["__main__"].__name__))


def _interrupt() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)


def _streams() -> None:
    for name in ("stdin", "stdout", "stderr"):
        stream = getattr(sys, name)
        print(
            name,
            stream.name,
            stream.mode,
            stream.encoding,
            stream.errors,
            stream.line_buffering,
            stream.write_through,
            type(stream.buffer).__name__,
            stream is getattr(sys, f"__{name}__"),
        )


def _local_time() -> None:
    print(time.tzname, time.strftime("%z", time.localtime(0)))


def _linger() -> None:
    """A daemon a test forgot: still running when the test worker exits."""
    time.sleep(60)


PROBES = {
    "crash": _crash,
    "thread-then-atexit": _thread_then_atexit,
    "interrupt": _interrupt,
    "streams": _streams,
    "local-time": _local_time,
    "linger": _linger,
}

if __name__ == "__main__":
    PROBES[sys.argv[1]]()
