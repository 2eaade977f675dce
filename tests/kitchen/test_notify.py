"""The bridge and the printer adapter talk to systemd as their Type=notify units expect."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.kitchen import Kitchen, SimPrinter
from tests.support.notify_socket import assert_ready_watchdog_stopping, notify_conversation


@pytest.mark.parametrize("process", ["bridge", "printer"])
def test_ready_then_watchdog_then_stopping(
    process: str, kitchen: Kitchen, printers: Callable[..., SimPrinter]
) -> None:
    """READY=1 once started, WATCHDOG=1 from the loop, STOPPING=1 on SIGTERM, then a clean exit."""
    kitchen.add_device("grill-1", "grill")
    args = ["bridge"]
    if process == "printer":
        args = ["printer", "--device", "grill-1", "--connect", f"tcp://127.0.0.1:{printers().port}"]
    env = kitchen._env({})
    assert_ready_watchdog_stopping(notify_conversation(args, env))
