"""Reading the catalogue: products with their taxes and stock, categories, payment methods.

Plain SQL over the tables of ``hub.db.migrations``; results are the public
shapes of API.md (money as decimal strings): products as ``hub.catalog.models.Product``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, TypedDict

import sqlite_utils

from hub.catalog.models import PaymentMethod, Product
from hub.orders.machine import ProductFacts
from hub.orders.money import Money, Tax, qty_text

Row = Sequence[Any]

_PRODUCT_COLUMNS = (
    "p.id, p.name, p.barcode, p.default_code, p.price, p.category_id, p.active, p.sale_ok, "
    "p.stock_tracked, p.station, p.remote_id, p.local_only, s.qty_available, "
    "(SELECT json_group_array(tax_id) FROM product_taxes pt WHERE pt.product_id = p.id) AS tax_ids"
)
_PRODUCT_FROM = "products p LEFT JOIN stock s ON s.product_id = p.id"


def _product_public(row: Row, money: Money) -> Product:
    (pid, name, barcode, code, price, category_id, active, sale_ok, tracked, station,
     remote_id, local_only, qty, tax_ids) = row  # fmt: skip
    return Product(
        pid,
        name,
        barcode,
        code,
        money.text(price),
        category_id,
        sorted(json.loads(tax_ids)) if tax_ids else [],
        bool(active and sale_ok),
        bool(tracked),
        qty_text(Decimal(qty)) if tracked and qty is not None else None,
        station,
        remote_id,
        bool(local_only),
    )


def get_product(db: sqlite_utils.Database, money: Money, product_id: int) -> Product | None:
    row = db.execute(
        f"SELECT {_PRODUCT_COLUMNS} FROM {_PRODUCT_FROM} WHERE p.id = ?", (product_id,)
    ).fetchone()
    return _product_public(row, money) if row else None


def product_facts(db: sqlite_utils.Database, ids: Iterable[int]) -> dict[int, ProductFacts]:
    """What the order rules need to know of each product, keyed by id."""
    id_list = sorted(set(ids))
    if not id_list:
        return {}
    marks = ",".join("?" * len(id_list))
    rows = db.execute(
        "SELECT p.id, p.name, p.price, p.active, p.sale_ok, p.stock_tracked, s.qty_available "
        f"FROM products p LEFT JOIN stock s ON s.product_id = p.id WHERE p.id IN ({marks})",
        id_list,
    ).fetchall()
    return {
        r[0]: ProductFacts(
            id=r[0],
            name=r[1],
            price=r[2],
            active=bool(r[3]),
            sale_ok=bool(r[4]),
            stock_tracked=bool(r[5]),
            qty_available=Decimal(r[6]) if r[6] is not None else None,
        )
        for r in rows
    }


class ProductRow(TypedDict):
    """What an order line copies of its product (price in minor units)."""

    name: str
    price: int
    station: str | None


def product_rows(db: sqlite_utils.Database, ids: Iterable[int]) -> dict[int, ProductRow]:
    """Name, price and station of products, for building order lines."""
    id_list = sorted(set(ids))
    if not id_list:
        return {}
    marks = ",".join("?" * len(id_list))
    rows = db.execute(
        f"SELECT id, name, price, station FROM products WHERE id IN ({marks})", id_list
    ).fetchall()
    return {r[0]: ProductRow(name=r[1], price=r[2], station=r[3]) for r in rows}


def taxes_of(db: sqlite_utils.Database, product_ids: Iterable[int]) -> dict[int, list[Tax]]:
    """Active taxes per product."""
    id_list = sorted(set(product_ids))
    if not id_list:
        return {}
    marks = ",".join("?" * len(id_list))
    out: dict[int, list[Tax]] = {pid: [] for pid in id_list}
    for pid, tid, amount, included in db.execute(
        "SELECT pt.product_id, t.id, t.amount, t.price_include FROM product_taxes pt "
        f"JOIN taxes t ON t.id = pt.tax_id WHERE t.active = 1 AND pt.product_id IN ({marks}) "
        "ORDER BY t.id",
        id_list,
    ).fetchall():
        out[pid].append(Tax(id=tid, rate=Decimal(amount), price_include=bool(included)))
    return out


def list_categories(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT id, name, parent_id, sequence, remote_id FROM categories "
        "WHERE active = 1 ORDER BY sequence, id"
    ).fetchall()
    return [
        {"id": r[0], "name": r[1], "parent_id": r[2], "sequence": r[3], "remote_id": r[4]}
        for r in rows
    ]


def get_category(db: sqlite_utils.Database, category_id: int) -> dict[str, Any]:
    """One category as a manager's edit answers it: archived ones too, with ``active``."""
    row = db.execute(
        "SELECT id, name, parent_id, sequence, active, remote_id FROM categories WHERE id = ?",
        (category_id,),
    ).fetchone()
    keys = ("id", "name", "parent_id", "sequence", "active", "remote_id")
    out = dict(zip(keys, row, strict=True))
    out["active"] = bool(out["active"])
    return out


def list_payment_methods(db: sqlite_utils.Database) -> list[PaymentMethod]:
    rows = db.execute(
        "SELECT id, name, is_cash, remote_id FROM payment_methods WHERE active = 1 ORDER BY id"
    ).fetchall()
    return [PaymentMethod(r[0], r[1], bool(r[2]), r[3]) for r in rows]


def payment_methods_by_id(db: sqlite_utils.Database) -> dict[int, tuple[bool, bool]]:
    """id → (active, is_cash)."""
    return {
        r[0]: (bool(r[1]), bool(r[2]))
        for r in db.execute("SELECT id, active, is_cash FROM payment_methods").fetchall()
    }


def products_by_id(
    db: sqlite_utils.Database, money: Money, ids: Iterable[int]
) -> dict[int, Product]:
    """Public products by id, in one query; unknown ids are left out."""
    id_list = sorted(set(ids))
    if not id_list:
        return {}
    marks = ",".join("?" * len(id_list))
    rows = db.execute(
        f"SELECT {_PRODUCT_COLUMNS} FROM {_PRODUCT_FROM} WHERE p.id IN ({marks})", id_list
    ).fetchall()
    return {row[0]: _product_public(row, money) for row in rows}


def list_product_ids(
    db: sqlite_utils.Database,
    *,
    limit: int,
    after: int | None = None,
    category_id: int | None = None,
    available: str = "yes",
) -> list[int]:
    """Product ids in id order, filtered by category and availability (yes, no, any)."""
    where = ["p.id > ?"]
    params: list[Any] = [after or 0]
    if category_id is not None:
        where.append("p.category_id = ?")
        params.append(category_id)
    if available == "yes":
        where.append("p.active = 1 AND p.sale_ok = 1")
    elif available == "no":
        where.append("NOT (p.active = 1 AND p.sale_ok = 1)")
    rows = db.execute(
        f"SELECT p.id FROM products p WHERE {' AND '.join(where)} ORDER BY p.id LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [r[0] for r in rows]
