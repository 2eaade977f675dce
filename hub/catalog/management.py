"""A manager keeping the catalogue on the hub: products, categories and taxes.

What the REST API (``hub.web.api.catalog_admin``), the CLI and the CSV import
(``hub.catalog.importer``) call, each inside the writer's transaction. Products
go through ``hub.catalog.edits`` (the same checks as every other writer,
folded search keys, one ``catalog.updated`` event), so caches, tills and the
kitchen's routing (a product's station) follow as they follow the Odoo pull.

Head office stays the source of truth: with an Odoo configured (``odoo`` true),
a record that came from it (``remote_id`` set) is refused here with
``odoo_owned`` (409), saying to change it in Odoo. What a manager creates here
is ``local_only``: the pull never links it to an Odoo record of the same
barcode, nor overwrites it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlite_utils

from hub.catalog import edits
from hub.catalog.edits import MAX_NAME, Change, ProductInput, Touched
from hub.clock import now_iso
from hub.errors import Conflict, NotFound, ValidationFailed
from hub.orders.money import Money

_PRODUCT_FIELDS = (
    "name, price, barcode, default_code, category_id, station, active, sale_ok, "
    "stock_tracked, remote_id"
)


def _refuse_if_owned(table: str, row_id: int, remote_id: int | None, odoo: bool) -> None:
    if odoo and remote_id is not None:
        noun = {"products": "product", "categories": "category", "taxes": "tax"}[table]
        raise Conflict(
            "odoo_owned",
            f"{noun} {row_id} comes from head office's Odoo (id {remote_id}): change it "
            "in Odoo, and the next pull brings the change here",
            {"table": table, "id": row_id, "remote_id": remote_id},
        )


def _check_taxes(db: sqlite_utils.Database, tax_ids: tuple[int, ...] | None) -> None:
    if not tax_ids:
        return
    marks = ",".join("?" * len(tax_ids))
    known = {
        r[0]
        for r in db.execute(
            f"SELECT id FROM taxes WHERE active = 1 AND id IN ({marks})", tax_ids
        ).fetchall()
    }
    unknown = sorted(set(tax_ids) - known)
    if unknown:
        raise ValidationFailed(
            f"tax {unknown[0]} does not exist or is archived", {"fields": {"tax_ids": "unknown"}}
        )


def create_product(
    db: sqlite_utils.Database,
    money: Money,
    item: ProductInput,
    *,
    odoo: bool,
    announce: bool = True,
) -> Change:
    """A new local product; its barcode, when given, must be no other product's (409).
    ``announce``: as ``edits.upsert_product``'s."""
    del odoo  # a new product is the hub's own, Odoo or not
    _check_taxes(db, item.tax_ids)
    if item.barcode:
        owner = db.execute(
            "SELECT id FROM products WHERE barcode = ?", (item.barcode.strip(),)
        ).fetchone()
        if owner:
            raise Conflict(
                "barcode_conflict",
                f"barcode {item.barcode.strip()} already belongs to product {owner[0]}",
                {"barcode": item.barcode.strip(), "product_id": owner[0]},
            )
    local = replace(item, remote_id=None, local_only=True, tax_ids=item.tax_ids or ())
    return edits.upsert_product(db, money, local, announce=announce)


def current_product(db: sqlite_utils.Database, product_id: int) -> ProductInput:
    """A product as an input to edit: what it holds now (taxes and stock included)."""
    row = db.execute(f"SELECT {_PRODUCT_FIELDS} FROM products WHERE id = ?", (product_id,))
    found = row.fetchone()
    if found is None:
        raise NotFound(f"product {product_id} does not exist", {"product_id": product_id})
    name, price, barcode, code, category, station, active, sale_ok, tracked, remote = found
    taxes = db.execute(
        "SELECT tax_id FROM product_taxes WHERE product_id = ? ORDER BY tax_id", (product_id,)
    ).fetchall()
    qty = db.execute(
        "SELECT qty_available FROM stock WHERE product_id = ?", (product_id,)
    ).fetchone()
    return ProductInput(
        name=name,
        price=price,
        barcode=barcode,
        default_code=code,
        category_id=category,
        station=station,
        tax_ids=tuple(r[0] for r in taxes),
        active=bool(active),
        sale_ok=bool(sale_ok),
        stock_tracked=bool(tracked),
        qty_available=qty[0] if qty else None,
        remote_id=remote,
    )


def edit_product(
    db: sqlite_utils.Database,
    money: Money,
    product_id: int,
    changes: dict[str, Any],
    *,
    odoo: bool,
    announce: bool = True,
) -> Change:
    """Change the named fields of a product (``ProductInput`` names; ``None`` clears an
    optional one); refused for an Odoo product while an Odoo is configured."""
    current = current_product(db, product_id)
    _refuse_if_owned("products", product_id, current.remote_id, odoo)
    if announce and changes and set(changes) <= {"price", "active"}:
        # The event tills know for a repricing or an archive ("price", "availability").
        return edits.update_product(
            db, money, product_id, price=changes.get("price"), active=changes.get("active")
        )
    item = replace(current, **changes)
    _check_taxes(db, item.tax_ids)
    return edits.upsert_product(db, money, item, product_id, announce=announce)


# -- categories ---------------------------------------------------------------------------


def _category_name(db: sqlite_utils.Database, name: str, category_id: int | None) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_NAME or not clean.isprintable():
        raise ValidationFailed(
            f"name must be printable and 1 to {MAX_NAME} characters",
            {"fields": {"name": "invalid"}},
        )
    clash = db.execute(
        "SELECT id FROM categories WHERE name = ? AND id IS NOT ?", (clean, category_id)
    ).fetchone()
    if clash:
        raise Conflict(
            "category_exists",
            f"category {clash[0]} is already named {clean!r}",
            {"category_id": clash[0]},
        )
    return clean


def _check_parent(
    db: sqlite_utils.Database, parent_id: int | None, category_id: int | None
) -> None:
    if parent_id is None:
        return
    seen = {category_id}
    node: int | None = parent_id
    while node is not None:
        if node in seen:
            raise ValidationFailed(
                "a category cannot be its own parent", {"fields": {"parent_id": "cycle"}}
            )
        seen.add(node)
        row = db.execute("SELECT parent_id FROM categories WHERE id = ?", (node,)).fetchone()
        if row is None:
            raise ValidationFailed(
                f"category {node} does not exist", {"fields": {"parent_id": "unknown"}}
            )
        node = row[0]


def create_category(
    db: sqlite_utils.Database, name: str, *, sequence: int = 0, parent_id: int | None = None
) -> tuple[int, Change]:
    clean = _category_name(db, name, None)
    _check_parent(db, parent_id, None)
    return edits.upsert_category(db, clean, sequence=sequence, parent_id=parent_id)


def edit_category(
    db: sqlite_utils.Database, category_id: int, changes: dict[str, Any], *, odoo: bool
) -> tuple[int, Change]:
    row = db.execute(
        "SELECT name, sequence, parent_id, active, remote_id FROM categories WHERE id = ?",
        (category_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"category {category_id} does not exist", {"category_id": category_id})
    _refuse_if_owned("categories", category_id, row[4], odoo)
    values = {"name": row[0], "sequence": row[1], "parent_id": row[2], "active": bool(row[3])}
    values.update(changes)
    name = _category_name(db, values["name"], category_id)
    _check_parent(db, values["parent_id"], category_id)
    db.execute(
        "UPDATE categories SET name = ?, sequence = ?, parent_id = ?, active = ?, updated_at = ? "
        "WHERE id = ?",
        (name, values["sequence"], values["parent_id"], int(values["active"]), now_iso(),
         category_id),
    )  # fmt: skip
    touched = Touched(categories=True, listings=True)
    seq = edits.record(db, "category", touched, category_id=category_id)
    return category_id, Change(seq, touched, count=0)


# -- taxes --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaxInput:
    name: str
    amount: str  # percent, a decimal string: "10", "5.5"
    price_include: bool = False
    active: bool = True


def _checked_tax(db: sqlite_utils.Database, tax: TaxInput, tax_id: int | None) -> TaxInput:
    name = " ".join(tax.name.split())
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise ValidationFailed(
            f"name must be printable and 1 to {MAX_NAME} characters",
            {"fields": {"name": "invalid"}},
        )
    try:
        amount = Decimal(tax.amount)
    except InvalidOperation as exc:
        raise ValidationFailed(
            "amount must be a percentage", {"fields": {"amount": "invalid"}}
        ) from exc
    if not amount.is_finite() or not 0 <= amount <= 100:
        raise ValidationFailed(
            "amount must be a percentage from 0 to 100", {"fields": {"amount": "out of range"}}
        )
    clash = db.execute(
        "SELECT id FROM taxes WHERE name = ? AND id IS NOT ?", (name, tax_id)
    ).fetchone()
    if clash:
        raise Conflict(
            "tax_exists", f"tax {clash[0]} is already named {name!r}", {"tax_id": clash[0]}
        )
    # "10", not normalize()'s "1E+1"; "5.5", not "5.50".
    return replace(tax, name=name, amount=format(amount.normalize(), "f") if amount else "0")


def list_taxes(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT id, name, amount, price_include, active, remote_id FROM taxes ORDER BY id"
    ).fetchall()
    return [_tax_public(r) for r in rows]


def _tax_public(row: Any) -> dict[str, Any]:
    tid, name, amount, included, active, remote_id = row
    return {
        "id": tid,
        "name": name,
        "amount": amount,
        "price_include": bool(included),
        "active": bool(active),
        "remote_id": remote_id,
    }


def _tax(db: sqlite_utils.Database, tax_id: int) -> dict[str, Any]:
    row = db.execute(
        "SELECT id, name, amount, price_include, active, remote_id FROM taxes WHERE id = ?",
        (tax_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"tax {tax_id} does not exist", {"tax_id": tax_id})
    return _tax_public(row)


def create_tax(db: sqlite_utils.Database, tax: TaxInput) -> tuple[dict[str, Any], Change]:
    tax = _checked_tax(db, tax, None)
    cursor = db.execute(
        "INSERT INTO taxes (name, amount, price_include, active, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (tax.name, tax.amount, int(tax.price_include), int(tax.active), now_iso()),
    )
    assert cursor.lastrowid is not None
    return _tax_changed(db, cursor.lastrowid)


def edit_tax(
    db: sqlite_utils.Database, tax_id: int, changes: dict[str, Any], *, odoo: bool
) -> tuple[dict[str, Any], Change]:
    current = _tax(db, tax_id)
    _refuse_if_owned("taxes", tax_id, current["remote_id"], odoo)
    merged = TaxInput(
        name=current["name"],
        amount=current["amount"],
        price_include=current["price_include"],
        active=current["active"],
    )
    tax = _checked_tax(db, replace(merged, **changes), tax_id)
    db.execute(
        "UPDATE taxes SET name = ?, amount = ?, price_include = ?, active = ?, updated_at = ? "
        "WHERE id = ?",
        (tax.name, tax.amount, int(tax.price_include), int(tax.active), now_iso(), tax_id),
    )
    return _tax_changed(db, tax_id)


def _tax_changed(db: sqlite_utils.Database, tax_id: int) -> tuple[dict[str, Any], Change]:
    # A tax's rate is in the price of every product that carries it: all products go.
    touched = Touched(all_products=True)
    seq = edits.record(db, "tax", touched, tax_id=tax_id)
    return _tax(db, tax_id), Change(seq, touched, count=0)
