"""The small things an operator trips on (issue 12.8), each run as the operator runs it."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.version import VERSION
from tests.conftest import demo_database
from tests.support import local_http
from tests.support.api_client import Api
from tests.support.db_content import content
from tests.support.hub_process import HubProcess, run_cli


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return demo_database(tmp_path / "edgehub.db")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One hub for the module's tests that only read it or open sessions of their own."""
    db = demo_database(tmp_path_factory.mktemp("small") / "edgehub.db")
    served = HubProcess(db, EDGEHUB_LOG_LEVEL="info").start()
    yield served
    served.stop()


def test_version_is_on_the_command_line_and_in_health(hub: HubProcess) -> None:
    """Support's first question is which version runs; both answers agree."""
    shown = run_cli(hub.db, "--version")
    assert shown.returncode == 0 and shown.stdout.strip() == f"edgehub {VERSION}"
    assert local_http.get(hub.url + "/health").json()["version"] == VERSION


def test_user_add_refuses_an_existing_login_unless_update(db: Path) -> None:
    """A second `user add ana` is more often a mistake than a PIN reset."""
    before = content(db)
    refused = run_cli(db, "user", "add", "ana", "--role", "admin", "--pin", "4444")
    assert refused.returncode == 2
    assert "user 'ana' already exists (id" in refused.stderr and "--update" in refused.stderr
    assert content(db) == before
    updated = run_cli(db, "user", "add", "ana", "--role", "manager", "--pin", "4444", "--update")
    assert updated.returncode == 0, updated.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT role FROM users WHERE login = 'ana'").fetchone() == ("manager",)


def test_user_list_shows_staff_without_secrets(db: Path) -> None:
    """An operator can see who may sign in, and how, without opening the database."""
    run_cli(db, "user", "disable", "kitchen")
    listed = run_cli(db, "user", "list")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:-1]}
    assert set(lines) == {"admin", "ana", "kitchen", "marco"}
    assert "cashier" in lines["ana"] and "active" in lines["ana"] and "PIN" in lines["ana"]
    assert "disabled" in lines["kitchen"]
    assert "pbkdf2" not in listed.stdout and "$" not in listed.stdout


def test_device_add_refuses_a_station_no_product_uses(db: Path) -> None:
    """A typo in --station would register a printer that never gets a ticket."""
    before = content(db)
    refused = run_cli(db, "device", "add", "grill-1", "--station", "gril")
    assert refused.returncode == 2
    assert "no product goes to station 'gril'" in refused.stderr
    assert "stations here: bar, cold, grill" in refused.stderr
    assert content(db) == before
    assert (
        run_cli(db, "device", "add", "pizza-1", "--station", "pizza", "--new-station").returncode
        == 0
    )
    assert run_cli(db, "device", "add", "pizza-2", "--station", "pizza").returncode == 0


def test_device_list_fits_80_columns(db: Path) -> None:
    """The store PC's console is 80 columns; a wrapped table is unreadable."""
    for device, station in (("grill-printer-primary-1", "grill"), ("bar-kds-backup-22", "bar")):
        assert run_cli(db, "device", "add", device, "--station", station).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE devices SET online = 1, paper = 'out', cover = 'open', "
            "last_seen = '2026-01-01T10:00:00.000Z' WHERE id = 'bar-kds-backup-22'"
        )
    listed = run_cli(db, "device", "list", COLUMNS="80")
    assert listed.returncode == 0, listed.stderr
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    row = next(line for line in listed.stdout.splitlines() if "bar-kds-backup-22" in line)
    assert "no paper+cover" in row and "grill-printer-primary-1" in listed.stdout


def test_a_restarted_till_finds_its_open_session(hub: HubProcess) -> None:
    """A till that lost its state finds its terminal's open session instead of opening another."""
    api = Api(hub.url)
    try:
        mine = api.post("/api/v1/sessions", {"terminal": "till-9", "opening_cash": "0"}).json()
        api.post("/api/v1/sessions", {"terminal": "till-2", "opening_cash": "0"})
        found = api.get("/api/v1/sessions?state=open&terminal=till-9").json()
        assert [s["id"] for s in found["items"]] == [mine["id"]]
        assert api.get("/api/v1/sessions?state=shut").status_code == 422  # as every bad query
    finally:
        api.close()


def test_closing_a_session_can_cancel_its_drafts_in_one_call(hub: HubProcess) -> None:
    """A till at closing time with forgotten drafts closes in one call, and knows what went."""
    api = Api(hub.url)
    try:
        session = api.open_session()
        draft = api.create(session)
        refused = api.post(f"/api/v1/sessions/{session}/close", {"closing_cash": "0"})
        assert refused.status_code == 422
        assert '"cancel_unpaid": true' in refused.json()["message"]
        assert api.get(f"/api/v1/orders/{draft['id']}").json()["state"] == "draft"
        closed = api.post(
            f"/api/v1/sessions/{session}/close", {"closing_cash": "0", "cancel_unpaid": True}
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["state"] == "closed"
        assert closed.json()["cancelled_orders"] == [draft["id"]]
        assert api.get(f"/api/v1/orders/{draft['id']}").json()["state"] == "cancelled"
    finally:
        api.close()


def test_metrics_content_type_has_one_charset(hub: HubProcess) -> None:
    """Two charset parameters make strict scrapers reject the page."""
    kind = local_http.get(hub.url + "/metrics").headers["content-type"]
    assert kind.count("charset") == 1, kind
    assert kind.startswith("text/plain; version=0.0.4")


def test_cache_warmed_is_logged_once_at_start(hub: HubProcess) -> None:
    """One warming round at start, one line: two lines read as two different things."""
    deadline = time.monotonic() + 10
    while " cache_warmed " not in hub.log.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # a second round, had there been one, starts at the same moment
    assert hub.log.read_text().count(" cache_warmed ") == 1


def _jobs_that_ran(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM job_runs WHERE runs > 0").fetchone()[0])


def test_no_periodic_job_does_nothing(hub: HubProcess) -> None:
    """A job that runs no hook only fills `edgehub status` with "no hooks registered"."""
    deadline = time.monotonic() + 10
    while _jobs_that_ran(hub.db) < 8:  # the eight of hub.periodic.plan, each once at start
        assert time.monotonic() < deadline
        time.sleep(0.05)
    status = run_cli(hub.db, "status", COLUMNS="200")
    assert "stale_cleanup" not in status.stdout and "no hooks registered" not in status.stdout
    warned = run_cli(hub.db, "status", EDGEHUB_JOB_STALE_CLEANUP_SECONDS="60")
    assert "EDGEHUB_JOB_STALE_CLEANUP_SECONDS" in warned.stderr and "removed" in warned.stderr


def test_long_work_prints_progress_lines_off_a_terminal(db: Path) -> None:
    """Under a script or systemd a progress bar draws nothing, and the work looks hung."""
    loaded = run_cli(db, "demo", "--products", "2000")
    assert loaded.returncode == 0, loaded.stderr
    assert "generating products: 0 of 2000" in loaded.stderr
    assert "generating products: done, 2000 of 2000" in loaded.stderr
    made = run_cli(db, "backup")
    assert made.returncode == 0 and "backing up " in made.stderr
    backup = made.stdout.split()[1]
    restored = run_cli(db, "restore", backup)
    assert restored.returncode == 0, restored.stderr
    for line in ("intact", "keeping a copy of", "copying "):
        assert line in restored.stderr


def test_serve_says_how_tills_on_the_lan_reach_it(db: Path) -> None:
    """A tablet cannot reach 127.0.0.1; the operator learns it from serve, not from a dead till."""
    local = HubProcess(db).start()
    local.stop()
    assert "only this PC can reach it (127.0.0.1)" in local.log.read_text()
    assert "--host 0.0.0.0" in local.log.read_text()
    lan = "http://192.0.2.5:8123"
    shared = HubProcess(db, "--host", "0.0.0.0", EDGEHUB_LAN_URL=lan).start()
    shared.stop()
    assert f"tills and tablets on the LAN use {lan} (EDGEHUB_LAN_URL)" in shared.log.read_text()
    status = run_cli(db, "status", COLUMNS="200", EDGEHUB_LAN_URL=lan, EDGEHUB_HOST="0.0.0.0")
    assert lan in status.stdout
