"""``edgehub serve`` tells systemd it is ready only once it answers, and pings the watchdog."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import demo_database
from tests.support import local_http
from tests.support.hub_process import free_port, hub_env
from tests.support.notify_socket import assert_ready_watchdog_stopping, notify_conversation


def test_serve_sends_ready_then_watchdog_then_stopping(tmp_path: Path) -> None:
    """READY=1 arrives when /health answers, WATCHDOG=1 follows, STOPPING=1 on SIGTERM."""
    db = demo_database(tmp_path / "edgehub.db")
    port = free_port()

    def answers() -> None:
        assert local_http.get(f"http://127.0.0.1:{port}/health").status_code == 200

    env = hub_env(db, EDGEHUB_PORT=str(port))
    # uvicorn re-raises the SIGTERM it handled, so the exit status is the signal's.
    messages = notify_conversation(["serve"], env, while_running=answers, exit_code=None)
    assert_ready_watchdog_stopping(messages)
