"""``edgehub catalog import`` and ``export``: dry run first, bad rows named, all or nothing."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from hub.catalog.importer import COLUMNS
from hub.db.connection import immediate, open_db
from tests.conftest import demo_database, make_settings
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess, run_cli

GOOD = [
    {"name": "Tiramisu", "price": "6.50", "barcode": "2990000000017", "category": "Desserts",
     "taxes": "VAT 10% (incl.)", "station": "cold", "available": "yes"},
    {"name": "Panna Cotta", "price": "5.90", "default_code": "DES-PC", "category": "Desserts"},
    {"name": "Espresso", "price": "2.40", "barcode": "2000000000107"},  # the demo's: an update
]  # fmt: skip


def _csv(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _state(db_path: Path) -> tuple[int, int, list[tuple[object, ...]]]:
    """Product count, the log's head, and every product row: what must not move."""
    db = open_db(make_settings(db_path))
    try:
        count = db.execute("SELECT COUNT(*) FROM products").fetchone()[0]
        head = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        rows = db.execute("SELECT * FROM products ORDER BY id").fetchall()
        return count, head, rows
    finally:
        db.close()


def test_a_dry_run_reports_and_changes_nothing(tmp_path: Path) -> None:
    """Without --apply the import says what it would do, and the database stays as it was."""
    db = demo_database(tmp_path / "edgehub.db")
    (tmp_path / "new.csv").write_text(_csv(GOOD))
    before = _state(db)
    result = run_cli(db, "catalog", "import", str(tmp_path / "new.csv"))
    assert result.returncode == 0, result.stderr
    assert "3 rows: 2 new, 1 updated (dry run" in result.stdout
    assert "3/3 rows" in result.stderr  # the progress line
    assert _state(db) == before


def test_a_rejected_row_is_named_by_line_and_nothing_is_imported(tmp_path: Path) -> None:
    """Every bad row is reported with its line number and reason; the good rows wait too."""
    db = demo_database(tmp_path / "edgehub.db")
    bad = [
        *GOOD[:2],
        {"name": "Mystery", "price": "abc"},
        {"name": "Cake", "price": "4.00", "category": "Cakes"},
        {"name": "Twin", "price": "1.00", "barcode": "2990000000017"},  # as row 2's
        {"name": "", "price": "1.00"},
        {"name": "Tea", "price": "2.00", "taxes": "VAT 99%"},
        {"name": "Jam", "price": "3.00", "available": "maybe"},
        {"name": "Soup", "price": "5.00", "station": "Hot Line"},  # no device can be its
    ]
    (tmp_path / "bad.csv").write_text(_csv(bad))
    before = _state(db)
    result = run_cli(db, "catalog", "import", str(tmp_path / "bad.csv"), "--apply")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    for line, reason in [
        (4, "price 'abc'"),
        (5, "category 'Cakes'"),
        (6, "earlier row"),
        (7, "name is required"),
        (8, "tax 'VAT 99%'"),
        (9, "available must be yes or no"),
        (10, "station 'Hot Line' must be 1-64 of A-Z a-z 0-9 _ -"),
    ]:
        assert any(text.startswith(f"bad.csv:{line}: ") and reason in text for text in lines), (
            line,
            lines,
        )
    assert "7 rejected; nothing was changed" in result.stdout
    assert _state(db) == before


def test_an_applied_import_is_one_event_the_running_hub_follows(tmp_path: Path) -> None:
    """--apply writes every row in one transaction and one catalog.updated event; a served
    hub's cached search and product reads see the new catalogue without a restart."""
    db = demo_database(tmp_path / "edgehub.db")
    (tmp_path / "new.csv").write_text(_csv(GOOD))
    hub = HubProcess(db).start()
    api = Api(hub.url)
    try:
        espresso = api.get("/api/v1/products", params={"barcode": "2000000000107"}).json()
        assert espresso["items"][0]["price"] == "2.20"
        assert api.get("/api/v1/products", params={"q": "tiramisu"}).json()["items"] == []
        result = run_cli(db, "catalog", "import", str(tmp_path / "new.csv"), "--apply")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "imported as event" in result.stdout
        deadline = time.monotonic() + 10
        found: list[dict[str, object]] = []
        while not found and time.monotonic() < deadline:
            found = api.get("/api/v1/products", params={"q": "tiramisu"}).json()["items"]
            time.sleep(0.05)
        assert [p["name"] for p in found] == ["Tiramisu"] and found[0]["local_only"] is True
        espresso = api.get("/api/v1/products", params={"barcode": "2000000000107"}).json()
        assert espresso["items"][0]["price"] == "2.40"
    finally:
        api.close()
        hub.stop()
    conn = open_db(make_settings(db))
    events = conn.execute(
        "SELECT json_extract(data, '$.change'), json_extract(data, '$.created') FROM events "
        "WHERE event = 'catalog.updated' AND json_extract(data, '$.change') = 'import'"
    ).fetchall()
    conn.close()
    assert events == [("import", 2)]


def test_export_then_import_is_a_round_trip(tmp_path: Path) -> None:
    """The exported file imports back as updates that change nothing a till sees."""
    db = demo_database(tmp_path / "edgehub.db")
    out = tmp_path / "catalogue.csv"
    assert run_cli(db, "catalog", "export", str(out)).returncode == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) >= 30 and rows[0]["name"] == "Classic Burger"
    result = run_cli(db, "catalog", "import", str(out), "--apply")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(rows)} rows: 0 new, {len(rows)} updated" in result.stdout
    again = tmp_path / "again.csv"
    run_cli(db, "catalog", "export", str(again))
    assert again.read_text() == out.read_text()


def test_odoo_products_are_refused_by_an_import_while_odoo_is_connected(tmp_path: Path) -> None:
    """A row for a product head office owns is rejected with the reason, and nothing moves."""
    db = demo_database(tmp_path / "edgehub.db")
    conn = open_db(make_settings(db))
    with immediate(conn):
        conn.execute("UPDATE products SET remote_id = 9 WHERE barcode = '2000000000107'")
    conn.close()
    (tmp_path / "new.csv").write_text(_csv(GOOD))
    before = _state(db)
    result = run_cli(
        db, "catalog", "import", str(tmp_path / "new.csv"), EDGEHUB_ODOO_URL="http://127.0.0.1:9"
    )
    assert result.returncode == 1
    assert any("new.csv:4:" in t and "Odoo" in t for t in result.stdout.splitlines())
    assert _state(db) == before


def test_unknown_columns_are_refused_before_any_row(tmp_path: Path) -> None:
    """A header the hub does not know (a typo, another system's export) is named, not guessed."""
    db = demo_database(tmp_path / "edgehub.db")
    (tmp_path / "odd.csv").write_text("name,prix\nTea,2.00\n")
    result = run_cli(db, "catalog", "import", str(tmp_path / "odd.csv"))
    assert result.returncode == 1 and "unknown columns ['prix']" in result.stdout


def test_products_categories_and_taxes_from_the_command_line(tmp_path: Path) -> None:
    """``edgehub catalog product add/edit``, ``category add``, ``tax add``: the API's rules."""
    import json

    db = demo_database(tmp_path / "edgehub.db")
    assert run_cli(db, "catalog", "category", "add", "Pastries").returncode == 0
    tax = run_cli(db, "catalog", "tax", "add", "VAT 5.5%", "5.5")
    assert tax.returncode == 0 and json.loads(tax.stdout)["amount"] == "5.5"
    added = run_cli(
        db, "catalog", "product", "add", "Croissant", "1.80", "--category", "Pastries",
        "--tax", "VAT 5.5%", "--station", "cold", "--stock", "24", "--barcode", "2990000000024",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    product = json.loads(added.stdout)
    assert product["local_only"] and product["qty_available"] == "24"
    edited = run_cli(db, "catalog", "product", "edit", str(product["id"]), "--price", "1.95",
                     "--available", "no")  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["price"] == "1.95"
    assert json.loads(edited.stdout)["available"] is False
    clash = run_cli(db, "catalog", "product", "add", "Twin", "1", "--barcode", "2990000000024")
    assert clash.returncode == 1 and "already belongs to product" in clash.stderr
    unknown = run_cli(db, "catalog", "product", "add", "Pie", "1", "--category", "Nope")
    assert unknown.returncode == 1 and "category 'Nope' does not exist" in unknown.stderr


def test_the_command_line_refuses_odoo_products_while_odoo_is_connected(tmp_path: Path) -> None:
    """The CLI tells an operator to change head office's product in Odoo, and changes nothing."""
    db = demo_database(tmp_path / "edgehub.db")
    conn = open_db(make_settings(db))
    with immediate(conn):
        conn.execute("UPDATE products SET remote_id = 9 WHERE id = 1")
    conn.close()
    before = _state(db)
    r = run_cli(db, "catalog", "product", "edit", "1", "--price", "1",
                EDGEHUB_ODOO_URL="http://127.0.0.1:9")  # fmt: skip
    assert r.returncode == 1 and "change it in Odoo" in r.stderr
    assert _state(db) == before
