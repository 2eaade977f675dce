"""Faults are in the log (once as they start, once as they clear), in /health and in status."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.version import VERSION
from tests.conftest import demo_database
from tests.support import local_http
from tests.support.hub_process import HubProcess, free_port, run_cli
from tests.support.kitchen import GRILL, Kitchen, wait_until
from tests.support.mqtt_client import Mqtt
from tests.support.redis_server import PrivateRedis

WATCH = {
    "EDGEHUB_JOB_FAULT_WATCH_SECONDS": "0.2",
    "EDGEHUB_LOG_LEVEL": "warning",
    # Redis back is noticed by the cache's monitor: 0.2 s instead of 1 s.
    "EDGEHUB_TIMING": '{"cache_monitor_seconds": 0.2}',
}


@pytest.fixture
def kitchen(tmp_path: Path) -> Iterator[Kitchen]:
    k = Kitchen(demo_database(tmp_path / "edgehub.db"))
    yield k
    k.close()


def _faults(hub: HubProcess) -> dict[str, dict[str, Any]]:
    body = local_http.get(hub.url + "/health").json()
    found = {f["key"]: f for f in body["faults"]}
    assert (body["status"] == "degraded") == bool(found) or body["checks"]["redis"] == "down"
    return found


def _wait(hub: HubProcess, test: Callable[[dict[str, dict[str, Any]]], bool], what: str) -> Any:
    def check() -> tuple[dict[str, dict[str, Any]]] | None:
        found = _faults(hub)
        return (found,) if test(found) else None

    return wait_until(check, 15, what)[0]


def _log_lines(hub: HubProcess, event: str, key: str) -> list[str]:
    return [
        line
        for line in hub.log.read_text().splitlines()
        if f" {event} " in line and f"fault={key} " in line
    ]


def _watch_rounds(kitchen: Kitchen) -> int:
    """Runs of the fault watch the hub recorded (job_runs)."""
    rows = kitchen.query("SELECT runs FROM job_runs WHERE name = 'fault_watch'")
    return int(rows[0][0]) if rows else 0


def test_tickets_for_a_station_without_a_device_are_a_fault_until_one_is_added(
    kitchen: Kitchen,
) -> None:
    """Today such tickets stay `sent` forever in silence; now the operator is told what to do."""
    kitchen.bridge()
    hub = HubProcess(kitchen.db, EDGEHUB_STORE=kitchen.store, **WATCH).start()
    try:
        kitchen.paid_order((GRILL, "1"))
        found = _wait(hub, lambda f: "station:grill:no_device" in f, "the fault in /health")
        fault = found["station:grill:no_device"]
        assert fault["level"] == "error" and fault["since"]
        assert "edgehub device add ID --station grill" in fault["what"]
        wait_until(lambda: _log_lines(hub, "fault_started", "station:grill:no_device"), 10)
        status = run_cli(kitchen.db, "status", COLUMNS="200", EDGEHUB_PORT=str(hub.port))
        assert status.returncode == 0, status.stderr
        assert "station:grill:no_device" in status.stdout and "since " in status.stdout
        assert re.search(rf"bridge\s+.*running: EdgeHub {re.escape(VERSION)}", status.stdout)
        assert re.search(rf"serve\s+.*running: EdgeHub {re.escape(VERSION)}", status.stdout)
        assert re.search(r"sync\s+.*not running", status.stdout)
        added = run_cli(kitchen.db, "device", "add", "grill-1", "--station", "grill")
        assert added.returncode == 0, added.stderr
        _wait(hub, lambda f: "station:grill:no_device" not in f, "the fault cleared")
        wait_until(lambda: _log_lines(hub, "fault_cleared", "station:grill:no_device"), 10)
        rounds = _watch_rounds(kitchen)
        wait_until(lambda: _watch_rounds(kitchen) >= rounds + 2, 10, "two more rounds")
        # Two more rounds of the watch since it cleared: still one line each.
        assert len(_log_lines(hub, "fault_started", "station:grill:no_device")) == 1
        assert len(_log_lines(hub, "fault_cleared", "station:grill:no_device")) == 1
        assert "ERROR" in _log_lines(hub, "fault_started", "station:grill:no_device")[0]
    finally:
        hub.stop()


def test_paper_cover_and_failed_tickets_are_faults(kitchen: Kitchen) -> None:
    """A printer that says why it cannot print is named in /health with since when."""
    kitchen.add_device("grill-1", "grill")
    device = Mqtt()
    status_topic = f"edgehub/{kitchen.store}/devices/grill-1/status"
    try:
        device.publish(status_topic, {"online": True, "paper": "out", "cover": "open"}, True)
        kitchen.bridge()
        hub = HubProcess(kitchen.db, EDGEHUB_STORE=kitchen.store, **WATCH).start()
        try:
            found = _wait(hub, lambda f: "device:grill-1:cover" in f, "paper and cover")
            assert "device:grill-1:paper" in found and found["device:grill-1:paper"]["since"]
            assert "out of paper" in found["device:grill-1:paper"]["what"]
            order = kitchen.paid_order((GRILL, "1"))
            device.publish(status_topic, {"online": True, "paper": "ok", "cover": "closed"}, True)
            (job,) = kitchen.wait_jobs(order.id, "sent", 1)
            device.publish(
                f"edgehub/{kitchen.store}/devices/grill-1/ack",
                {"job_id": job["job_id"], "status": "failed", "error": "cutter jam"},
            )
            found = _wait(hub, lambda f: "kitchen:failed" in f, "the failed ticket")
            assert (
                "device:grill-1:paper" not in found and found["kitchen:failed"]["level"] == "error"
            )
            for key in ("device:grill-1:paper", "device:grill-1:cover"):
                wait_until(lambda key=key: _log_lines(hub, "fault_cleared", key), 10)
                assert "WARNING" in _log_lines(hub, "fault_started", key)[0]
        finally:
            hub.stop()
    finally:
        device.publish(status_topic, b"", True)
        device.close()


def test_redis_away_is_a_fault_from_start_until_it_answers(tmp_path: Path) -> None:
    """The hub keeps selling without Redis and says so once, with since when, and once when back."""
    redis = PrivateRedis()
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db, EDGEHUB_REDIS_URL=redis.url, **WATCH).start()
    try:
        found = _wait(hub, lambda f: bool(f.get("redis", {}).get("since")), "redis fault")
        assert (
            found["redis"]["level"] == "warning" and "EDGEHUB_REDIS_URL" in found["redis"]["what"]
        )
        status = run_cli(db, "status", COLUMNS="200", EDGEHUB_REDIS_URL=redis.url)
        assert "redis" in status.stdout and "Redis does not answer" in status.stdout
        redis.start()
        _wait(hub, lambda f: "redis" not in f, "redis back")
        wait_until(lambda: _log_lines(hub, "fault_cleared", "redis"), 10)
        assert len(_log_lines(hub, "fault_started", "redis")) == 1
    finally:
        hub.stop()
        redis.kill()


def test_a_stopped_sync_agent_is_a_fault(tmp_path: Path) -> None:
    """With Odoo configured, orders silently pile up when the agent is not running."""
    db = demo_database(tmp_path / "edgehub.db")
    odoo = {"EDGEHUB_ODOO_URL": f"http://127.0.0.1:{free_port()}"}
    hub = HubProcess(db, **odoo, **WATCH).start()
    try:
        found = _wait(hub, lambda f: "sync:stopped" in f, "sync fault")
        assert "systemctl start edgehub-sync" in found["sync:stopped"]["what"]
        status = run_cli(db, "status", COLUMNS="200", **odoo)
        assert "sync:stopped" in status.stdout
        wait_until(lambda: _log_lines(hub, "fault_started", "sync:stopped"), 10)
    finally:
        hub.stop()
