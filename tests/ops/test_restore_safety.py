"""`edgehub restore` refuses under any running EdgeHub process; order names never repeat."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import demo_database
from tests.support.api_client import Api
from tests.support.db_content import content
from tests.support.hub_process import HubProcess, run_cli
from tests.support.kitchen import Kitchen, KitchenProcess, SimPrinter


@pytest.fixture
def kitchen(tmp_path: Path) -> Iterator[Kitchen]:
    k = Kitchen(demo_database(tmp_path / "edgehub.db"))
    yield k
    k.close()


def _backup(db: Path) -> Path:
    made = run_cli(db, "backup")
    assert made.returncode == 0, made.stderr
    named = re.search(r"^backup (\S+) ", made.stdout, re.MULTILINE)
    assert named, made.stdout
    return Path(named[1])


def _refused_while(kitchen: Kitchen, process: KitchenProcess, what: str) -> None:
    backup = _backup(kitchen.db)
    assert process.proc is not None
    before = content(kitchen.db)
    refused = run_cli(kitchen.db, "restore", str(backup))
    assert refused.returncode == 2, refused.stderr
    assert f"{what} (pid {process.proc.pid})" in refused.stderr
    assert "stop it first" in refused.stderr
    assert content(kitchen.db) == before


def test_restore_refuses_while_the_bridge_runs(kitchen: Kitchen) -> None:
    """The bridge writes job states into the file a restore would swap under it."""
    _refused_while(kitchen, kitchen.bridge(), f"the kitchen bridge of store '{kitchen.store}'")


def test_restore_refuses_while_a_printer_adapter_runs(kitchen: Kitchen) -> None:
    """A printer adapter reads its registration and keeps its seen-jobs file beside the DB."""
    sim = SimPrinter()
    try:
        kitchen.add_device("p1", "grill")
        _refused_while(kitchen, kitchen.printer("p1", sim.port), "the printer adapter of 'p1'")
    finally:
        sim.close()


def test_restore_refuses_while_the_sync_agent_runs(kitchen: Kitchen) -> None:
    """The agent's cursor and outbox live in the file: a restore under it would resend or skip."""
    agent = KitchenProcess("sync", ["sync"], kitchen._env({}), kitchen.db)
    kitchen.processes.append(agent)
    _refused_while(kitchen, agent.start(), "the sync agent")


def _names(db: Path) -> set[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM orders")}


def test_order_names_never_repeat_after_a_forced_restore(tmp_path: Path) -> None:
    """Names issued after the backup may be on tickets or in Odoo: none is handed out again."""
    db = demo_database(tmp_path / "edgehub.db")
    hub = HubProcess(db).start()
    api = Api(hub.url)
    try:
        kept = api.open_session()
        api.create(kept)
        backup = _backup(db)
        for _ in range(3):
            api.create(kept)  # numbers 2..4 of the session the backup holds at 1
        later = api.open_session()  # a session the backup never saw
        api.create(later)
        issued = _names(db)
        forced = run_cli(db, "restore", str(backup), "--force")
        assert forced.returncode == 0, forced.stderr
        assert f"new sessions start at {later + 1}" in forced.stdout
        again = api.create(kept)["name"]
        fresh = api.open_session()
        assert fresh > later
        newer = api.create(fresh)["name"]
    finally:
        api.close()
        hub.stop()
    assert again not in issued and newer not in issued
    assert again.endswith("-0005")


def test_a_restore_over_an_unreadable_database_jumps_session_ids(tmp_path: Path) -> None:
    """When the replaced file cannot say what it issued, new sessions start far above the backup."""
    db = demo_database(tmp_path / "edgehub.db")
    backup = _backup(db)
    db.write_bytes(b"this is not a database" * 100)
    restored = run_cli(db, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "could not be read: new sessions start at 1001" in restored.stdout
    hub = HubProcess(db).start()
    api = Api(hub.url)
    try:
        assert api.open_session() == 1001
    finally:
        api.close()
        hub.stop()
