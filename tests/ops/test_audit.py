"""The audit trail: every payment, refund, price override, cancel and login, hash-chained."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest

from hub.audit import chain
from hub.auth.users import Actor
from hub.db.connection import immediate, open_db
from hub.settings import Settings
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess, run_cli

COLUMNS = ("at", "action", "actor_id", "actor", "subject", "data", "prev_hash", "hash")


def _audit(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT action, subject, data FROM audit ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A served hub that saw a failed and a good login, an override, a sale and a refund."""
    from tests.conftest import demo_database

    db = demo_database(tmp_path_factory.mktemp("audit") / "edgehub.db")
    hub = HubProcess(db).start()
    api = Api(hub.url)
    try:
        assert (
            api.http.post("/api/v1/auth/token", json={"login": "ana", "pin": "7391"}).status_code
            == 401
        )
        assert (
            api.http.post("/api/v1/auth/token", json={"login": "nobody", "pin": "8264"}).status_code
            == 401
        )
        session = api.open_session()
        body = api.order_body(session, [{"product_id": 1, "qty": "1", "price_unit": "8.00"}])
        body["approval"] = {"login": "marco", "pin": "9999"}
        order = api.post("/api/v1/orders", body).json()
        assert api.fire(order["id"], "validate").status_code == 200
        paid = api.fire(
            order["id"],
            "pay",
            {"payments": [{"method_id": 2, "amount": "8.00", "reference": "4111 1111 1111 1111"}]},
        )
        assert paid.status_code == 200, paid.text
        cancelled = api.fire(order["id"], "cancel", {"reason": "wrong table"}, as_="marco")
        assert cancelled.status_code == 200, cancelled.text
    finally:
        api.close()
        hub.stop()
    return db


def test_every_money_and_login_action_is_audited(audited: Path) -> None:
    """Each action a store manager or an auditor asks about leaves exactly one row."""
    actions = [row[0] for row in _audit(audited)]
    assert actions.count("login_failed") == 2
    assert actions.count("login") >= 2  # ana, then marco for the cancel
    for action in ("price_override", "payment", "cancel", "refund"):
        assert actions.count(action) == 1, action
    order_rows = [a for a in actions if a in ("price_override", "payment", "cancel", "refund")]
    assert order_rows == ["price_override", "payment", "cancel", "refund"]


def test_audit_rows_hold_no_pin_and_no_payment_reference(audited: Path) -> None:
    """The trail is read by people who must not learn PINs or card details from it."""
    text = " ".join(data for _, _, data in _audit(audited))
    for secret in ("7391", "8264", "9999", "4111", "nobody", "pin"):
        assert secret not in text, secret


def test_cli_verify_proves_an_intact_chain(audited: Path) -> None:
    """``edgehub audit verify`` exits 0 and names the head an auditor can note down."""
    result = run_cli(audited, "audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    rows, head = chain.head(open_db(Settings(db=audited), readonly=True))
    assert f"{rows} rows" in result.stdout and head in result.stdout


def _tampered_copy(src: Path, dst: Path, row_id: int, column: str) -> Path:
    shutil.copy(src, dst)
    with sqlite3.connect(dst) as conn:
        conn.execute("DROP TRIGGER audit_no_update")  # what someone with the file can do
        value = conn.execute(f"SELECT {column} FROM audit WHERE id = ?", (row_id,)).fetchone()[0]
        changed = 99 if isinstance(value, int) or value is None else str(value) + "x"
        if column in ("prev_hash", "hash"):
            changed = "f" * 64
        conn.execute(f"UPDATE audit SET {column} = ? WHERE id = ?", (changed, row_id))
    return dst


@pytest.mark.parametrize("column", COLUMNS)
def test_editing_any_field_of_any_row_is_found_at_that_row(
    audited: Path, tmp_path: Path, column: str
) -> None:
    """Whatever was edited by hand, verification stops at the edited row, not before or after."""
    rows = len(_audit(audited))
    for row_id in range(1, rows + 1):
        copy = _tampered_copy(audited, tmp_path / f"t{row_id}.db", row_id, column)
        verdict = chain.verify(open_db(Settings(db=copy), readonly=True))
        assert verdict.broken_id == row_id, (row_id, column, verdict)
        assert verdict.rows == row_id - 1


def test_cli_verify_names_the_broken_row_and_exits_1(audited: Path, tmp_path: Path) -> None:
    """The operator is told which row to look at, and scripts see a failure."""
    copy = _tampered_copy(audited, tmp_path / "t.db", 3, "data")
    result = run_cli(copy, "audit", "verify")
    assert result.returncode == 1
    assert "BROKEN at row 3" in result.stdout


def test_deleting_a_row_is_found_at_the_next_one(audited: Path, tmp_path: Path) -> None:
    """A row taken out of the middle leaves its successor chained to nothing."""
    copy = tmp_path / "d.db"
    shutil.copy(audited, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TRIGGER audit_no_delete")
        conn.execute("DELETE FROM audit WHERE id = 2")
    verdict = chain.verify(open_db(Settings(db=copy), readonly=True))
    assert verdict.broken_id == 3


def test_the_hub_cannot_change_or_delete_audit_rows(audited: Path, tmp_path: Path) -> None:
    """The triggers stop a bug or a careless script from rewriting history."""
    copy = tmp_path / "c.db"
    shutil.copy(audited, copy)
    with sqlite3.connect(copy) as conn:
        for sql in ("UPDATE audit SET actor = 'x' WHERE id = 1", "DELETE FROM audit WHERE id = 1"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(sql)


def test_a_refused_payment_leaves_no_audit_row(module_api: Api, module_hub: HubProcess) -> None:
    """The row is written in the transaction of the change: no change, no row."""
    session = module_api.open_session()
    order = module_api.create(session)
    assert module_api.fire(order["id"], "validate").status_code == 200
    before = len(_audit(module_hub.db))
    short = module_api.fire(order["id"], "pay", {"payments": [{"method_id": 2, "amount": "0.01"}]})
    assert short.status_code == 422
    assert len(_audit(module_hub.db)) == before


def test_concurrent_writers_in_two_processes_keep_one_chain(settings: Settings) -> None:
    """BEGIN IMMEDIATE makes the head read and the append one step, whoever writes."""
    per_writer = 150

    def write(tag: str) -> None:
        db = open_db(settings)
        actor = Actor(id=None, role="admin", name=tag)
        for i in range(per_writer):
            with immediate(db):
                chain.append(db, "login", actor, f"user:{tag}", {"i": i, "n": uuid.uuid4().hex})
        db.close()

    # Separate connections stand for separate processes: nothing is shared but the file.
    writers = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(3)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    verdict = chain.verify(open_db(settings, readonly=True))
    assert verdict.ok, verdict
    assert verdict.rows == 3 * per_writer


def test_append_outside_a_transaction_is_refused(settings: Settings) -> None:
    """An audit row on its own, after the change committed, could be lost in a crash."""
    db = open_db(settings)
    with pytest.raises(RuntimeError, match="transaction"):
        chain.append(db, "login", Actor(id=None, role="admin", name="x"), "login", {})
