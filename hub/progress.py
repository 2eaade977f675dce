"""Progress of long work for whoever watches: a bar on a terminal, plain lines otherwise.

A rich progress bar draws nothing when output goes to a file, a pipe or the
journal, so a `demo --products 200000` run from a script, or a restore under
``systemd-run``, looked hung. Off a terminal, ``Steps`` writes one line at the
start, one per tenth done (at most one per ``LINE_SECONDS``) and one at the end.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

from rich.progress import Progress, TaskID

LINE_SECONDS = 2.0


class Steps:
    """``update(done)`` as work advances; use as a context manager around the work."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._shown = -1  # tenths already reported
        self._at = 0.0

    def __enter__(self) -> Steps:
        if self.stream.isatty():
            self._bar = Progress(transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total)
        else:
            self._line(f"{self.label}: 0 of {self.total}")
        return self

    def update(self, done: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done)
            return
        tenth = done * 10 // max(1, self.total)
        now = time.monotonic()
        if tenth > self._shown and now - self._at >= LINE_SECONDS and done < self.total:
            self._shown = tenth
            self._line(f"{self.label}: {done} of {self.total} ({done * 100 // self.total}%)")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)
        elif exc_type is None:
            self._line(f"{self.label}: done, {self.total} of {self.total}")

    def _line(self, text: str) -> None:
        self._at = time.monotonic()
        print(text, file=self.stream, flush=True)


def note(text: str, stream: TextIO | None = None) -> None:
    """One line saying what a long step is doing now (stderr, flushed at once)."""
    print(text, file=stream or sys.stderr, flush=True)
