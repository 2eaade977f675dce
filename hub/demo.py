"""The demo store of API.md: a small restaurant that makes every client tryable.

Loading is idempotent: products are matched by barcode, users by login, the
rest by name, so running ``edgehub demo`` twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlite_utils

from hub.auth.roles import Role
from hub.auth.users import add_user
from hub.catalog.folding import fold
from hub.catalog.sample import ean13_check
from hub.clock import now_iso
from hub.orders.money import Money

STATIONS = ("grill", "bar", "cold")

USERS = (
    ("admin", "Admin", Role.ADMIN, "0000"),
    ("marco", "Marco", Role.MANAGER, "9999"),
    ("ana", "Ana", Role.CASHIER, "1234"),
    ("kitchen", "Kitchen", Role.KITCHEN, "5555"),
)

TAXES = (
    ("VAT 10% (incl.)", "10", True),
    ("Sales tax 8%", "8", False),
)

CATEGORIES = ("Burgers & Grill", "Drinks", "Salads & Cold", "Desserts", "Shop")

# name, category, price, station, tax (index into TAXES), stock on hand or None
PRODUCTS: tuple[tuple[str, str, str, str | None, int, str | None], ...] = (
    ("Classic Burger", "Burgers & Grill", "9.50", "grill", 0, None),
    ("Cheeseburger", "Burgers & Grill", "10.50", "grill", 0, None),
    ("Jalapeño Burger", "Burgers & Grill", "11.00", "grill", 0, None),
    ("Veggie Burger", "Burgers & Grill", "10.00", "grill", 0, None),
    ("Chicken Wings (8)", "Burgers & Grill", "8.90", "grill", 0, None),
    ("Grilled Halloumi", "Burgers & Grill", "9.20", "grill", 0, None),
    ("Fries", "Burgers & Grill", "3.50", "grill", 0, None),
    ("Sweet Potato Fries", "Burgers & Grill", "4.20", "grill", 0, None),
    ("Onion Rings", "Burgers & Grill", "4.00", "grill", 0, None),
    ("Espresso", "Drinks", "2.20", "bar", 0, None),
    ("Cappuccino", "Drinks", "3.40", "bar", 0, None),
    ("Café Latte", "Drinks", "3.80", "bar", 0, None),
    ("Fresh Orange Juice", "Drinks", "4.50", "bar", 0, None),
    ("Lemonade", "Drinks", "3.90", "bar", 0, None),
    ("Iced Tea", "Drinks", "3.20", "bar", 0, None),
    ("Sparkling Water", "Drinks", "2.50", "bar", 0, None),
    ("Craft Beer", "Drinks", "5.80", "bar", 0, None),
    ("House Wine (glass)", "Drinks", "6.50", "bar", 0, None),
    ("Caesar Salad", "Salads & Cold", "8.90", "cold", 0, None),
    ("Greek Salad", "Salads & Cold", "8.50", "cold", 0, None),
    ("Quinoa Bowl", "Salads & Cold", "9.90", "cold", 0, None),
    ("Gazpacho", "Salads & Cold", "6.20", "cold", 0, None),
    ("Coleslaw", "Salads & Cold", "3.00", "cold", 0, None),
    ("Crème Brûlée", "Desserts", "5.50", "cold", 0, None),
    ("Chocolate Brownie", "Desserts", "4.80", "cold", 0, None),
    ("Cheesecake", "Desserts", "5.20", "cold", 0, None),
    ("Ice Cream (2 scoops)", "Desserts", "4.00", "cold", 0, None),
    ("Apple Pie", "Desserts", "4.60", "cold", 0, None),
    ("House Hot Sauce", "Shop", "6.90", None, 1, "6"),
    ("Branded Mug", "Shop", "12.00", None, 1, "4"),
    ("Coffee Beans 250 g", "Shop", "9.50", None, 1, "10"),
    ("Gift Card 20", "Shop", "20.00", None, 1, None),
)

PAYMENT_METHODS = (("Cash", True), ("Card", False))


def ean13(seed: int) -> str:
    """A valid EAN-13 in the in-store range (prefix 20), from a small number."""
    body = f"20{seed:010d}"
    return body + ean13_check(body)


def load_demo(db: sqlite_utils.Database, *, pin_iterations: int) -> dict[str, int]:
    """Load (or top up) the demo store inside the caller's transaction; returns counts."""
    money = Money()
    now = now_iso()
    for login, name, role, pin in USERS:
        exists = db.execute("SELECT 1 FROM users WHERE login = ?", (login,)).fetchone()
        if not exists:
            add_user(db, login=login, name=name, role=role, pin=pin, iterations=pin_iterations)

    tax_ids: list[int] = []
    for name, amount, included in TAXES:
        tax_ids.append(
            _id_by_name(
                db,
                "taxes",
                name,
                "INSERT INTO taxes (name, amount, price_include, updated_at) VALUES (?, ?, ?, ?)",
                (name, amount, int(included), now),
            )
        )
    category_ids = {
        name: _id_by_name(
            db,
            "categories",
            name,
            "INSERT INTO categories (name, sequence, updated_at) VALUES (?, ?, ?)",
            (name, seq, now),
        )
        for seq, name in enumerate(CATEGORIES)
    }
    for name, is_cash in PAYMENT_METHODS:
        _id_by_name(
            db,
            "payment_methods",
            name,
            "INSERT INTO payment_methods (name, is_cash, updated_at) VALUES (?, ?, ?)",
            (name, int(is_cash), now),
        )
    for i, (name, category, price, station, tax, stock) in enumerate(PRODUCTS, start=1):
        barcode = ean13(i)
        if db.execute("SELECT 1 FROM products WHERE barcode = ?", (barcode,)).fetchone():
            continue
        cursor = db.execute(
            "INSERT INTO products (name, name_key, barcode, default_code, code_key, price, "
            "category_id, stock_tracked, station, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                fold(name),
                barcode,
                f"D{i:03d}",
                fold(f"D{i:03d}"),
                money.to_minor(Decimal(price)),
                category_ids[category],
                int(stock is not None),
                station,
                now,
            ),
        )
        product_id = cursor.lastrowid
        db.execute(
            "INSERT INTO product_taxes (product_id, tax_id) VALUES (?, ?)",
            (product_id, tax_ids[tax]),
        )
        if stock is not None:
            db.execute(
                "INSERT INTO stock (product_id, qty_available, updated_at) VALUES (?, ?, ?)",
                (product_id, stock, now),
            )
    return {
        table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("users", "categories", "taxes", "products", "payment_methods")
    }


def _id_by_name(
    db: sqlite_utils.Database, table: str, name: str, insert: str, params: tuple[object, ...]
) -> int:
    row = db.execute(f"SELECT id FROM {table} WHERE name = ?", (name,)).fetchone()
    if row:
        return int(row[0])
    cursor = db.execute(insert, params)
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def load_catalogue(
    db: sqlite_utils.Database,
    count: int,
    *,
    seed: int = 7,
    batch: int = 5000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Top the store up with ``count`` generated products (``hub.catalog.sample``).

    Runs in the caller's transaction and through the catalogue service, so
    search keys, the FTS index and ``catalog.updated`` events are as for any
    other write. Idempotent: products are matched by barcode. Returns how many
    were new.
    """
    from hub.catalog import edits, sample

    tax_ids = [int(r[0]) for r in db.execute("SELECT id FROM taxes WHERE active = 1 ORDER BY id")]
    category_ids = {
        name: edits.upsert_category(db, name, sequence=len(CATEGORIES) + i)[0]
        for i, name in enumerate(sample.CATEGORIES)
    }
    money = Money()
    inserted = 0
    pending: list[edits.ProductInput] = []
    done = 0
    for item in sample.generate(count, seed):
        tax = tax_ids[:1] if item.station else tax_ids[1:2]
        pending.append(
            edits.ProductInput(
                name=item.name,
                price=money.to_minor(Decimal(item.price) / 100),
                barcode=item.barcode,
                default_code=item.default_code,
                category_id=category_ids[item.category],
                station=item.station,
                tax_ids=tuple(tax),
                stock_tracked=item.stock_tracked,
                qty_available=str(item.qty) if item.qty is not None else None,
            )
        )
        if len(pending) >= batch:
            inserted += _flush(db, pending)
            done += len(pending)
            pending.clear()
            if progress:
                progress(done, count)
    if pending:
        inserted += _flush(db, pending)
        done += len(pending)
        if progress:
            progress(done, count)
    return inserted


def _flush(db: sqlite_utils.Database, items: list[Any]) -> int:
    from hub.catalog import edits

    return edits.insert_products(db, items).count
