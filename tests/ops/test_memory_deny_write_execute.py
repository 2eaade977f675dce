"""MemoryDenyWriteExecute=yes in the units must not break the Python stack they run."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("mdwe_probe.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64",
    reason="the probe's seccomp filter is written for x86_64 Linux",
)
def test_stack_runs_with_writable_executable_memory_denied() -> None:
    """If uvloop or cryptography needed W+X memory, every unit would die at start on the box."""
    result = subprocess.run(
        [sys.executable, str(PROBE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "writable+executable mmap refused" in result.stdout
    assert "served HTTP and WebSocket" in result.stdout
