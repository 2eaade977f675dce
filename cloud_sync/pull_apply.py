"""Writing pulled catalogue records into SQLite: the pull's only database writes.

Kept apart from ``pull`` (which speaks to Odoo) so that these few functions
are all that changes when catalogue writes move behind a catalogue service:
each takes plain ``Remote*`` records and runs inside the caller's write
transaction, one transaction per pulled batch.

Records are matched by ``remote_id``. A hub record that was never linked
(``remote_id`` NULL) is adopted when it is plainly the same thing: a payment
method, tax or category of the same name, a product with the same barcode;
so a store that ran offline first keeps its ids. Records are never deleted
(order lines point at them): what Odoo archived or deleted is archived.
Only rows whose values changed are written, and each batch that changed
something appends one ``catalog.updated`` event naming the hub ids, to the
rooms of every catalogue change (``hub.catalog.edits.rooms``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlite_utils

from hub import events
from hub.catalog import edits as catalog
from hub.catalog.edits import Touched
from hub.clock import now_iso
from hub.logs import get_logger
from hub.orders.money import Money

log = get_logger("edgehub.sync")


@dataclass(frozen=True, slots=True)
class RemoteCategory:
    remote_id: int
    name: str
    parent_remote_id: int | None
    sequence: int


@dataclass(frozen=True, slots=True)
class RemoteTax:
    remote_id: int
    name: str
    amount: str  # percent, decimal string
    price_include: bool
    active: bool


@dataclass(frozen=True, slots=True)
class RemotePaymentMethod:
    remote_id: int
    name: str
    is_cash: bool
    active: bool


@dataclass(frozen=True, slots=True)
class RemoteProduct:
    remote_id: int
    name: str
    barcode: str | None
    default_code: str | None
    price: Decimal
    category_remote_id: int | None
    tax_remote_ids: tuple[int, ...]
    active: bool
    sale_ok: bool


TABLES = ("categories", "taxes", "payment_methods", "products")


def apply_categories(db: sqlite_utils.Database, records: Sequence[RemoteCategory]) -> list[int]:
    changed = []
    for rec in records:
        values = {"name": rec.name, "sequence": rec.sequence, "active": 1}
        changed.append(_upsert(db, "categories", rec.remote_id, values, ("name = ?", rec.name)))
    # Parents second: a parent may come later in the same batch.
    for rec in records:
        parent = _hub_id(db, "categories", rec.parent_remote_id)
        cursor = db.execute(
            "UPDATE categories SET parent_id = ? WHERE remote_id = ? AND parent_id IS NOT ?",
            (parent, rec.remote_id, parent),
        )
        if cursor.rowcount:
            changed.append(_hub_id(db, "categories", rec.remote_id))
    return _announce(db, "categories", changed)


def apply_taxes(db: sqlite_utils.Database, records: Sequence[RemoteTax]) -> list[int]:
    changed = []
    for rec in records:
        values = {
            "name": rec.name,
            "amount": rec.amount,
            "price_include": int(rec.price_include),
            "active": int(rec.active),
        }
        changed.append(_upsert(db, "taxes", rec.remote_id, values, ("name = ?", rec.name)))
    return _announce(db, "taxes", changed)


def apply_payment_methods(
    db: sqlite_utils.Database, records: Sequence[RemotePaymentMethod]
) -> list[int]:
    changed = []
    for rec in records:
        values = {"name": rec.name, "is_cash": int(rec.is_cash), "active": int(rec.active)}
        adopt = ("name = ?", rec.name)
        changed.append(_upsert(db, "payment_methods", rec.remote_id, values, adopt))
    return _announce(db, "payment_methods", changed)


def apply_products(
    db: sqlite_utils.Database, money: Money, records: Sequence[RemoteProduct]
) -> list[int]:
    changed = []
    for rec in records:
        values: dict[str, Any] = {
            "name": rec.name,
            "default_code": rec.default_code,
            "price": max(0, money.to_minor(rec.price)),
            "category_id": _hub_id(db, "categories", rec.category_remote_id),
            "active": int(rec.active),
            "sale_ok": int(rec.sale_ok),
        }
        # A product made on the hub (local_only) is never adopted: its barcode stays its own.
        adopt = ("barcode = ? AND local_only = 0", rec.barcode) if rec.barcode else None
        barcode_owner = _barcode_owner(db, rec.barcode)
        if barcode_owner is None or barcode_owner[1] in (rec.remote_id, None):
            values["barcode"] = rec.barcode
        else:
            log.warning("barcode_in_use", remote_id=rec.remote_id, barcode=rec.barcode)
        hub_id = _upsert(db, "products", rec.remote_id, values, adopt)
        product_id = hub_id or _hub_id(db, "products", rec.remote_id)
        if product_id is not None and _set_taxes(db, product_id, rec.tax_remote_ids):
            hub_id = product_id
        changed.append(hub_id)
    return _announce(db, "products", changed)


def archive_missing(db: sqlite_utils.Database, table: str, present: Iterable[int]) -> list[int]:
    """Archive linked hub rows whose Odoo record is gone (deleted, or out of the POS)."""
    if table not in TABLES:
        raise ValueError(f"not a catalogue table: {table}")
    keep = set(present)
    rows = db.execute(
        f"SELECT id, remote_id FROM {table} WHERE remote_id IS NOT NULL AND active = 1"
    ).fetchall()
    gone = [hub_id for hub_id, remote_id in rows if remote_id not in keep]
    now = now_iso()
    db.conn.executemany(
        f"UPDATE {table} SET active = 0, updated_at = ? WHERE id = ?", [(now, i) for i in gone]
    )
    return _announce(db, table, gone)


def archive_methods_outside(db: sqlite_utils.Database, allowed: Iterable[int]) -> list[int]:
    """Archive every hub payment method that is not one of the POS configuration's.

    ``pos.payment._check_payment_method_id`` refuses a payment whose method is
    not on the session's configuration, and a method never linked to Odoo
    cannot be sent at all: a till must not take either as a tender.
    """
    keep = set(allowed)
    rows = db.execute("SELECT id, remote_id FROM payment_methods WHERE active = 1").fetchall()
    gone = [hub_id for hub_id, remote_id in rows if remote_id is None or remote_id not in keep]
    now = now_iso()
    db.conn.executemany(
        "UPDATE payment_methods SET active = 0, updated_at = ? WHERE id = ?",
        [(now, i) for i in gone],
    )
    if gone:
        log.warning("payment_methods_archived", ids=gone, reason="not_in_pos_config")
    return _announce(db, "payment_methods", gone)


def watermark(db: sqlite_utils.Database, model: str) -> str | None:
    """The newest ``write_date`` (Odoo's clock) already applied for ``model``."""
    row = db.execute("SELECT write_date FROM sync_watermarks WHERE model = ?", (model,)).fetchone()
    return row[0] if row else None


def set_watermark(
    db: sqlite_utils.Database, model: str, write_date: str | None, *, reconciled: bool = False
) -> None:
    now = now_iso() if reconciled else None
    db.execute(
        "INSERT INTO sync_watermarks (model, write_date, reconciled_at) VALUES (?, ?, ?) "
        "ON CONFLICT (model) DO UPDATE SET write_date = excluded.write_date, "
        "reconciled_at = COALESCE(excluded.reconciled_at, reconciled_at)",
        (model, write_date, now),
    )


# -- internals ---------------------------------------------------------------------------


def _upsert(
    db: sqlite_utils.Database,
    table: str,
    remote_id: int,
    values: dict[str, Any],
    adopt: tuple[str, Any] | None,
) -> int | None:
    """Insert or update one linked row; the hub id if anything changed, else None."""
    columns = list(values)
    select = f"SELECT id, {', '.join(columns)} FROM {table}"
    row = db.execute(f"{select} WHERE remote_id = ?", (remote_id,)).fetchone()
    adopted = False
    if row is None and adopt is not None:
        where, param = adopt
        row = db.execute(
            f"{select} WHERE remote_id IS NULL AND {where} LIMIT 1", (param,)
        ).fetchone()
        adopted = row is not None
    now = now_iso()
    if row is None:
        if not values.get("active", 1) or not values.get("sale_ok", 1):
            return None  # nothing to sell: not worth a row until it is
        marks = ", ".join("?" * (len(columns) + 2))
        cursor = db.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, remote_id, updated_at) VALUES ({marks})",
            (*values.values(), remote_id, now),
        )
        return cursor.lastrowid
    hub_id, current = row[0], dict(zip(columns, row[1:], strict=True))
    changes = {k: v for k, v in values.items() if current[k] != v}
    if not changes and not adopted:
        return None
    assignments = "".join(f"{k} = ?, " for k in changes)
    db.execute(
        f"UPDATE {table} SET {assignments}remote_id = ?, updated_at = ? WHERE id = ?",
        (*changes.values(), remote_id, now, hub_id),
    )
    return int(hub_id)


def _hub_id(db: sqlite_utils.Database, table: str, remote_id: int | None) -> int | None:
    if remote_id is None:
        return None
    row = db.execute(f"SELECT id FROM {table} WHERE remote_id = ?", (remote_id,)).fetchone()
    return int(row[0]) if row else None


def _barcode_owner(db: sqlite_utils.Database, barcode: str | None) -> tuple[int, int | None] | None:
    if not barcode:
        return None
    row = db.execute(
        "SELECT id, CASE WHEN local_only THEN -1 ELSE remote_id END FROM products "
        "WHERE barcode = ?",
        (barcode,),
    ).fetchone()  # -1: a local product's barcode is in use, whatever Odoo says
    return (row[0], row[1]) if row else None


def _set_taxes(db: sqlite_utils.Database, product_id: int, tax_remote_ids: Sequence[int]) -> bool:
    wanted = {t for t in (_hub_id(db, "taxes", r) for r in tax_remote_ids) if t is not None}
    current = {
        r[0]
        for r in db.execute(
            "SELECT tax_id FROM product_taxes WHERE product_id = ?", (product_id,)
        ).fetchall()
    }
    if wanted == current:
        return False
    db.execute("DELETE FROM product_taxes WHERE product_id = ?", (product_id,))
    db.conn.executemany(
        "INSERT INTO product_taxes (product_id, tax_id) VALUES (?, ?)",
        [(product_id, t) for t in sorted(wanted)],
    )
    return True


# What each table's change makes the hubs' caches forget (``hub.catalog.edits.Touched``,
# read back by the cache upkeep of every worker). Products all at once: a pulled
# product may have lost a barcode this batch cannot name any more, and a tax
# change reprices every product that carries it. Payment methods are not cached.
_FORGET = {
    "categories": Touched(categories=True, listings=True),
    "taxes": Touched(all_products=True),
    "payment_methods": Touched(),
    "products": Touched(all_products=True, listings=True),  # names, archives, categories
}


def _announce(db: sqlite_utils.Database, table: str, changed: Iterable[int | None]) -> list[int]:
    ids = sorted({i for i in changed if i is not None})
    if ids:
        # The rooms of any catalogue change: the store and every open till.
        data = {"source": "odoo", "kind": table, "ids": ids, **_FORGET[table].event_data()}
        events.append(db, "catalog.updated", data, catalog.rooms(db))
    return ids
