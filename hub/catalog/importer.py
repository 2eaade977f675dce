"""The catalogue as a CSV file: export it, and import one, all or nothing.

Columns (``COLUMNS``, the header row names them, in any order; only ``name``
and ``price`` are required): ``name``, ``price`` (a decimal string),
``barcode``, ``default_code``, ``category`` (a category's name), ``taxes``
(tax names joined by ``|``), ``station``, ``stock_tracked`` and ``available``
(``yes``/``no``, ``true``/``false``, ``1``/``0``), ``qty_available``.

A row is the product whose barcode it holds, else the one product with its
reference, else a new (local) product. An import runs every row through
``hub.catalog.management`` inside one write transaction, each row in a
savepoint: a row that fails is noted with its line number and its own changes
undone, the others go on, so one pass reports every bad row with the very
rules a write through the API meets. Then a dry run, or any rejected row,
rolls the whole transaction back; otherwise it commits with one
``catalog.updated`` event for the batch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

import sqlite_utils

from hub.catalog import edits, management
from hub.catalog.edits import ProductInput, Touched
from hub.db.connection import immediate
from hub.errors import HubError
from hub.orders.money import Money

COLUMNS = (
    "name", "price", "barcode", "default_code", "category", "taxes", "station",
    "stock_tracked", "qty_available", "available",
)  # fmt: skip
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n", ""}
PROGRESS_EVERY = 500


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    message: str


@dataclass
class Report:
    """What an import did (or, in a dry run, would do)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    applied: bool = False
    seq: int | None = None


class Rollback(Exception):
    """Raised inside the import's transaction to undo it (dry run, rejected rows)."""


def export_rows(db: sqlite_utils.Database, money: Money) -> Iterable[dict[str, str]]:
    """Every product (archived too) as a CSV row of ``COLUMNS``, in id order."""
    categories = dict(db.execute("SELECT id, name FROM categories").fetchall())
    taxes = dict(db.execute("SELECT id, name FROM taxes").fetchall())
    by_product: dict[int, list[str]] = {}
    for pid, tid in db.execute("SELECT product_id, tax_id FROM product_taxes ORDER BY tax_id"):
        by_product.setdefault(pid, []).append(taxes[tid])
    for row in db.execute(
        "SELECT p.id, p.name, p.price, p.barcode, p.default_code, p.category_id, p.station, "
        "p.stock_tracked, s.qty_available, p.active AND p.sale_ok "
        "FROM products p LEFT JOIN stock s ON s.product_id = p.id ORDER BY p.id"
    ):
        pid, name, price, barcode, code, category, station, tracked, qty, available = row
        yield {
            "name": name,
            "price": money.text(price),
            "barcode": barcode or "",
            "default_code": code or "",
            "category": categories.get(category, ""),
            "taxes": "|".join(by_product.get(pid, [])),
            "station": station or "",
            "stock_tracked": "yes" if tracked else "no",
            "qty_available": qty if tracked and qty is not None else "",
            "available": "yes" if available else "no",
        }


def write_csv(rows: Iterable[dict[str, str]], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def import_csv(
    db: sqlite_utils.Database,
    money: Money,
    source: TextIO,
    *,
    apply: bool,
    odoo: bool,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Report:
    """Import ``source``; see the module docstring. ``progress(done, total)`` is called
    every ``PROGRESS_EVERY`` rows and at the end."""
    report = Report()
    reader = csv.DictReader(source)
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in COLUMNS]
    missing = [c for c in ("name", "price") if c not in header]
    if unknown or missing:
        problem = f"unknown columns {unknown}" if unknown else f"missing columns {missing}"
        report.rejected.append(Rejected(1, f"{problem}; the columns are {', '.join(COLUMNS)}"))
        return report
    rows = [(reader.line_num, row) for row in reader]
    report.rows = len(rows)
    touched = Touched()
    try:
        with immediate(db):
            lookups = _Lookups.load(db, set())
            for done, (line, row) in enumerate(rows, start=1):
                db.execute("SAVEPOINT import_row")
                try:
                    touched |= _import_row(db, money, lookups, row, odoo, report)
                    db.execute("RELEASE import_row")
                except (HubError, ValueError) as exc:
                    db.execute("ROLLBACK TO import_row")
                    db.execute("RELEASE import_row")
                    report.rejected.append(Rejected(line, _message(exc)))
                if done % PROGRESS_EVERY == 0:
                    progress(done, len(rows))
            if len(rows) % PROGRESS_EVERY:
                progress(len(rows), len(rows))
            if report.rejected or not apply:
                raise Rollback
            report.seq = edits.record(
                db, "import", replace(touched, listings=True), created=report.created,
                updated=report.updated,
            )  # fmt: skip
            report.applied = True
    except Rollback:
        pass
    return report


@dataclass(frozen=True, slots=True)
class _Lookups:
    categories: dict[str, int]
    taxes: dict[str, int]
    barcodes: set[str]  # of the rows before, within this file

    @classmethod
    def load(cls, db: sqlite_utils.Database, barcodes: set[str]) -> _Lookups:
        return cls(
            dict(db.execute("SELECT name, id FROM categories WHERE active = 1").fetchall()),
            dict(db.execute("SELECT name, id FROM taxes WHERE active = 1").fetchall()),
            barcodes,
        )


def _import_row(
    db: sqlite_utils.Database,
    money: Money,
    lookups: _Lookups,
    row: dict[str, Any],
    odoo: bool,
    report: Report,
) -> Touched:
    if None in row:
        raise ValueError("more fields than the header has columns")
    text = {k: (v or "").strip() for k, v in row.items()}
    values: dict[str, Any] = {"name": text["name"]}
    try:
        values["price"] = money.parse(text["price"])
    except ValueError as exc:
        raise ValueError(f"price {text['price']!r} is not an amount") from exc
    for key in ("barcode", "default_code", "station"):
        if key in text:
            values[key] = text[key] or None
    if "category" in text:
        name = text["category"]
        if name and name not in lookups.categories:
            raise ValueError(f"category {name!r} does not exist")
        values["category_id"] = lookups.categories.get(name) if name else None
    if "taxes" in text:
        names = [t.strip() for t in text["taxes"].split("|") if t.strip()]
        missing = [t for t in names if t not in lookups.taxes]
        if missing:
            raise ValueError(f"tax {missing[0]!r} does not exist")
        values["tax_ids"] = tuple(lookups.taxes[t] for t in names)
    for key, column in (("stock_tracked", "stock_tracked"), ("available", "active")):
        if key in text:
            values[column] = _flag(key, text[key], default=key == "available")
    if "qty_available" in text:
        values["qty_available"] = _qty(text["qty_available"])
    barcode = values.get("barcode")
    if barcode:
        if barcode in lookups.barcodes:
            raise ValueError(f"barcode {barcode} is on an earlier row of this file too")
        lookups.barcodes.add(barcode)
    pid = _match(db, barcode, values.get("default_code"))
    if pid is None:
        change = management.create_product(
            db, money, ProductInput(**values), odoo=odoo, announce=False
        )
        report.created += 1
    else:
        change = management.edit_product(db, money, pid, values, odoo=odoo, announce=False)
        report.updated += 1
    return change.touched


def _match(db: sqlite_utils.Database, barcode: str | None, code: str | None) -> int | None:
    if barcode:
        row = db.execute("SELECT id FROM products WHERE barcode = ?", (barcode,)).fetchone()
        if row:
            return int(row[0])
    if code:
        rows = db.execute("SELECT id FROM products WHERE default_code = ? LIMIT 2", (code,))
        found = rows.fetchall()
        if len(found) == 1:
            return int(found[0][0])
    return None


def _flag(key: str, value: str, *, default: bool) -> bool:
    lowered = value.lower()
    if not lowered:
        return default
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise ValueError(f"{key} must be yes or no, not {value!r}")


def _qty(value: str) -> str | None:
    if not value:
        return None
    try:
        qty = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"qty_available {value!r} is not a number") from exc
    if not qty.is_finite() or qty < 0:
        raise ValueError(f"qty_available {value!r} must be 0 or more")
    return str(qty)


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, HubError) else str(exc)


def read_text(data: bytes) -> TextIO:
    """A CSV file's bytes as text: UTF-8, with or without the BOM spreadsheets write."""
    return io.StringIO(data.decode("utf-8-sig"), newline="")
