"""The fault suite's ledger check fails when the evidence disagrees.

A small run of the suite (tests/e2e/test_fault_suite.py runs the big one) whose
evidence is damaged after the run, to show that the check notices a lost or
doubled order, ticket or event and a rewritten audit row. A file of its own so
that a second test worker runs it beside the big one.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from faultsuite.run import run_suite
from faultsuite.store import Store
from faultsuite.watchers import Watchers
from tests.support import launch

SEED = int(os.environ.get("FAULTSUITE_SEED", "1"))


def damage(store: Store, watchers: Watchers) -> None:
    """What a broken store would leave: each witness contradicts the store once."""
    # Head office lost an order the agent recorded as synced.
    odoo = store.odoo
    victim = odoo.orders()[0]
    with odoo.db.transaction():
        odoo.env().unlink("pos.order", [victim["id"]])
    # A printer printed a ticket twice without the REPRINT banner.
    sim = store.printers.sims["grill-printer-1"]
    sim.tickets.append(sim.tickets[0])
    # A watcher missed one event and got another twice.
    watcher = watchers.watchers[0]
    watcher.seqs.remove(watcher.seqs[3])
    watcher.seqs.insert(5, watcher.seqs[5])
    # Someone with the file rewrote an audit row.
    store.cli("audit", "verify")  # intact before
    conn = sqlite3.connect(store.db)
    with conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET data = '{}' WHERE id = (SELECT MIN(id) FROM audit)")
    conn.close()


@pytest.mark.timeout(300)
def test_the_ledger_check_fails_when_the_evidence_disagrees(tmp_path: Path) -> None:
    outcome = run_suite(
        orders=60, faults=0, tills=2, seed=SEED, workdir=tmp_path, tamper=damage,
        starter=launch.start,
    )  # fmt: skip
    assert not outcome.ok
    problems = outcome.ledger
    assert any(p.startswith("Odoo misses") for p in problems.lost), outcome.table
    assert any("printed 2 times unmarked" in p for p in problems.duplicated), outcome.table
    assert any("events never seen" in p for p in problems.lost), outcome.table
    assert any("events seen twice" in p for p in problems.duplicated), outcome.table
    assert any(p.startswith("audit verify") for p in problems.inconsistent), outcome.table
    rows = dict(line.rsplit(maxsplit=1) for line in outcome.table.splitlines() if line[:1] != "!")
    assert rows["lost"] == "2" and rows["duplicated"] == "2" and rows["inconsistent"] == "1"
    assert rows["verdict"] == "FAIL"
