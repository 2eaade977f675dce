"""The ``edgehub`` command: demo, migrate, users, tokens, status and help."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support import local_http
from tests.support.hub_process import HubProcess, run_cli

TABLES = ("users", "categories", "taxes", "products", "payment_methods", "stock", "product_taxes")


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_demo_is_idempotent_and_complete(tmp_path: Path) -> None:
    """Running demo twice gives the same store, which has what API.md promises."""
    db = tmp_path / "edgehub.db"
    assert run_cli(db, "demo").returncode == 0
    first = _counts(db)
    assert run_cli(db, "demo").returncode == 0
    assert _counts(db) == first
    assert first["products"] >= 30 and first["categories"] >= 4
    with sqlite3.connect(db) as conn:
        stations = {r[0] for r in conn.execute("SELECT DISTINCT station FROM products")}
        assert stations == {"grill", "bar", "cold", None}
        assert conn.execute("SELECT COUNT(*) FROM products WHERE barcode IS NULL").fetchone() == (
            0,
        )
        tracked = conn.execute("SELECT COUNT(*) FROM products WHERE stock_tracked = 1").fetchone()
        assert tracked[0] >= 2
        taxes = conn.execute("SELECT price_include FROM taxes ORDER BY 1").fetchall()
        assert taxes == [(0,), (1,)]
        methods = conn.execute("SELECT name FROM payment_methods ORDER BY id").fetchall()
        assert methods == [("Cash",), ("Card",)]
        roles = dict(conn.execute("SELECT login, role FROM users").fetchall())
        assert roles == {
            "admin": "admin",
            "marco": "manager",
            "ana": "cashier",
            "kitchen": "kitchen",
        }


def test_migrate_reports_up_to_date(tmp_path: Path) -> None:
    """A second migrate has nothing to apply and says so."""
    db = tmp_path / "edgehub.db"
    assert "applied 0001_core" in run_cli(db, "migrate").stdout
    assert "up to date" in run_cli(db, "migrate").stdout


def test_user_add_validates_the_pin(tmp_path: Path) -> None:
    """A PIN must be 4-8 digits; the error is clear and the exit code non-zero."""
    db = tmp_path / "edgehub.db"
    assert run_cli(db, "migrate").returncode == 0
    bad = run_cli(db, "user", "add", "bob", "--role", "cashier", "--pin", "12")
    assert bad.returncode == 2
    assert "PIN is 4 to 8 digits" in bad.stderr
    good = run_cli(db, "user", "add", "bob", "--role", "cashier", "--pin", "2468")
    assert good.returncode == 0, good.stderr


def test_token_command_prints_a_working_token(tmp_path: Path) -> None:
    """A token minted on the box authenticates against the served hub."""
    db = tmp_path / "edgehub.db"
    run_cli(db, "demo")
    token = run_cli(db, "token", "marco").stdout.strip()
    hub = HubProcess(db).start()
    try:
        r = local_http.get(hub.url + "/api/v1/events", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    finally:
        hub.stop()
    assert run_cli(db, "token", "nobody").returncode == 2


def test_status_prints_a_table(tmp_path: Path) -> None:
    """Status names the database, the log head and the open sessions."""
    db = tmp_path / "edgehub.db"
    assert run_cli(db, "status").returncode == 2  # no database there: hub.db.readiness
    run_cli(db, "demo")
    out = run_cli(db, "status").stdout
    assert "event log head" in out and "open sessions" in out


def test_every_command_has_help(tmp_path: Path) -> None:
    """--help works for every command an operator may type."""
    for args in (["--help"], ["serve", "--help"], ["demo", "--help"], ["user", "add", "--help"]):
        r = run_cli(tmp_path / "x.db", *args)
        assert r.returncode == 0 and "usage:" in r.stdout, args
