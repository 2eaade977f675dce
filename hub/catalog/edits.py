"""Writing the catalogue: products, prices, availability, categories.

Every function runs inside the write transaction its caller opened
(``Store.write`` or ``immediate``) and appends one ``catalog.updated`` event
in it, naming exactly what changed (a ``Touched``). Caches drop exactly that:
this process's right after the commit, every other process's when it tails
the event. The REST API, the demo loader and the Odoo sync puller all write
products through here, because here is where the folded search keys are
computed; the FTS5 index then follows by trigger, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from hub import events, mqtt_topics, sessions
from hub.catalog import repository
from hub.catalog.folding import fold
from hub.catalog.models import Product
from hub.clock import now_iso
from hub.errors import Conflict, NotFound, ValidationFailed
from hub.orders.money import Money

MAX_NAME = 200
MAX_CODE = 64
# Above this many products, an event says "all products" instead of listing ids.
MAX_LISTED = 500


@dataclass(frozen=True, slots=True)
class ProductInput:
    """A product as head office (or a manager) describes it; prices in minor units."""

    name: str
    price: int
    barcode: str | None = None
    default_code: str | None = None
    category_id: int | None = None
    station: str | None = None
    tax_ids: tuple[int, ...] | None = None  # None keeps the current taxes
    active: bool = True
    sale_ok: bool = True
    stock_tracked: bool = False
    qty_available: str | None = None
    remote_id: int | None = None
    local_only: bool = False  # made on the hub: never linked to, nor overwritten by, Odoo


@dataclass(frozen=True, slots=True)
class Touched:
    """What a write changed, in the terms caches are keyed by.

    ``listings`` means the set or order of products a search or a list returns
    may have changed (a new product, a name, a code, a category, availability);
    a price change alone leaves every listing as it was.
    """

    products: frozenset[int] = field(default_factory=frozenset)
    barcodes: frozenset[str] = field(default_factory=frozenset)
    users: frozenset[int] = field(default_factory=frozenset)
    sessions: frozenset[int] = field(default_factory=frozenset)
    categories: bool = False
    listings: bool = False
    all_products: bool = False
    everyone: bool = False  # every session and user: after a gap in the event log

    def __or__(self, other: Touched) -> Touched:
        return Touched(
            products=self.products | other.products,
            barcodes=self.barcodes | other.barcodes,
            users=self.users | other.users,
            sessions=self.sessions | other.sessions,
            categories=self.categories or other.categories,
            listings=self.listings or other.listings,
            all_products=self.all_products or other.all_products,
            everyone=self.everyone or other.everyone,
        )

    def __bool__(self) -> bool:
        return bool(
            self.products or self.barcodes or self.users or self.sessions
            or self.categories or self.listings or self.all_products or self.everyone
        )  # fmt: skip

    def event_data(self) -> dict[str, Any]:
        """The part of a ``catalog.updated`` event that says what to forget."""
        data: dict[str, Any] = {
            "products": sorted(self.products),
            "barcodes": sorted(self.barcodes),
            "categories": self.categories,
            "listings": self.listings,
        }
        if self.users:
            data["users"] = sorted(self.users)
        if self.all_products or len(self.products) > MAX_LISTED:
            data.update(products=[], barcodes=[], all_products=True)
        return data

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> Touched:
        """Read back ``event_data()``; unknown or missing keys mean "not touched"."""

        def ints(key: str) -> frozenset[int]:
            value = data.get(key)
            return frozenset(int(v) for v in value) if isinstance(value, list) else frozenset()

        codes = data.get("barcodes")
        return cls(
            products=ints("products"),
            barcodes=frozenset(map(str, codes)) if isinstance(codes, list) else frozenset(),
            users=ints("users"),
            categories=bool(data.get("categories")),
            listings=bool(data.get("listings")),
            all_products=bool(data.get("all_products")),
        )


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of one catalogue write: the event's seq, what it touched, the product."""

    seq: int
    touched: Touched
    product: Product | None = None
    count: int = 1  # products written


def rooms(db: sqlite_utils.Database) -> list[str]:
    """The rooms of a catalogue change: the store feed and every open session.

    Tills may not join ``store``; they listen on their session's room, so a
    change reaches them there and is replayed to a till that resubscribes
    with ``since``. Read in the caller's write transaction: a session opened
    before the change is named; one opened after it starts from the catalogue
    as REST then serves it. The event data names ids, a change kind and the
    public product, all of which a cashier may read over REST already. Staff
    changes (``hub.auth.users``) stay ``store``-only.
    """
    return ["store", *sessions.open_rooms(db)]


def record(db: sqlite_utils.Database, change: str, touched: Touched, **extra: Any) -> int:
    return events.append(
        db, "catalog.updated", {"change": change, **touched.event_data(), **extra}, rooms(db)
    )


def _clean(label: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise ValidationFailed(f"{label} is required", {"fields": {label: "required"}})
        return None
    text = " ".join(value.split())
    if len(text) > limit or not text.isprintable():
        raise ValidationFailed(
            f"{label} must be printable and at most {limit} characters",
            {"fields": {label: "invalid"}},
        )
    return text


def _category_ids(db: sqlite_utils.Database) -> frozenset[int]:
    """The categories that exist: a few dozen rows, read once for a whole batch."""
    return frozenset(r[0] for r in db.execute("SELECT id FROM categories").fetchall())


def _check_item(item: ProductInput, categories: frozenset[int]) -> ProductInput:
    """``item`` cleaned, or a 422 naming the field; ``categories``: ``_category_ids``."""
    name = _clean("name", item.name, MAX_NAME, required=True)
    assert name is not None
    if item.price < 0:
        raise ValidationFailed("price must not be negative", {"fields": {"price": "negative"}})
    if item.category_id is not None and item.category_id not in categories:
        raise ValidationFailed(
            f"category {item.category_id} does not exist", {"fields": {"category_id": "unknown"}}
        )
    return replace(
        item,
        name=name,
        barcode=_clean("barcode", item.barcode, MAX_CODE),
        default_code=_clean("default_code", item.default_code, MAX_CODE),
        station=_station(item.station),
    )


def _station(value: str | None) -> str | None:
    """A station names the MQTT topic its tickets go to and the devices register to
    (``hub.mqtt_topics``): a product sent to ``Hot Line`` would print nowhere, as no
    device can be registered to that name, so the catalogue refuses it here."""
    station = _clean("station", value, MAX_CODE)
    if station is not None and not mqtt_topics.is_name(station):
        raise ValidationFailed(
            f"station {station!r} must be 1-64 of A-Z a-z 0-9 _ - (the name devices "
            "are registered to)",
            {"fields": {"station": "not a station name"}},
        )
    return station


def _find(db: sqlite_utils.Database, item: ProductInput) -> int | None:
    """The product an input stands for: by head office id, else by barcode."""
    if item.remote_id is not None:
        row = db.execute(
            "SELECT id FROM products WHERE remote_id = ?", (item.remote_id,)
        ).fetchone()
        if row:
            return int(row[0])
    if item.barcode:
        row = db.execute("SELECT id FROM products WHERE barcode = ?", (item.barcode,)).fetchone()
        if row:
            return int(row[0])
    return None


_LISTED_COLUMNS = ("name", "barcode", "default_code", "category_id", "active", "sale_ok")


def upsert_product(
    db: sqlite_utils.Database,
    money: Money,
    item: ProductInput,
    product_id: int | None = None,
    *,
    announce: bool = True,
) -> Change:
    """Create or update one product (matched by id, else remote_id, else barcode).

    ``announce=False`` leaves the event to the caller, who writes one for a whole
    batch (``hub.catalog.importer``); the Change then has seq 0 and no product."""
    item = _check_item(item, _category_ids(db))
    pid = product_id if product_id is not None else _find(db, item)
    before = _row(db, pid) if pid is not None else None
    if pid is not None and before is None:
        raise NotFound(f"product {pid} does not exist", {"product_id": pid})
    if item.barcode:
        clash = db.execute(
            "SELECT id FROM products WHERE barcode = ? AND id IS NOT ?", (item.barcode, pid)
        ).fetchone()
        if clash:
            raise Conflict(
                "barcode_conflict",
                f"barcode {item.barcode} already belongs to product {clash[0]}",
                {"barcode": item.barcode, "product_id": clash[0]},
            )
    values = {
        "name": item.name,
        "name_key": fold(item.name),
        "barcode": item.barcode,
        "default_code": item.default_code,
        "code_key": fold(item.default_code) if item.default_code else None,
        "price": item.price,
        "category_id": item.category_id,
        "active": int(item.active),
        "sale_ok": int(item.sale_ok),
        "stock_tracked": int(item.stock_tracked),
        "station": item.station,
        "remote_id": item.remote_id,
        "updated_at": now_iso(),
    }
    if before is None:
        values["local_only"] = int(item.local_only)
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        cursor = db.execute(
            f"INSERT INTO products ({columns}) VALUES ({marks})", list(values.values())
        )
        assert cursor.lastrowid is not None
        pid = cursor.lastrowid
    else:
        assert pid is not None
        if item.remote_id is None:
            del values["remote_id"]  # an edit on the hub keeps the link to head office
        assignments = ", ".join(f"{c} = ?" for c in values)
        db.execute(f"UPDATE products SET {assignments} WHERE id = ?", (*values.values(), pid))
    if item.tax_ids is not None:
        db.execute("DELETE FROM product_taxes WHERE product_id = ?", (pid,))
        db.conn.executemany(
            "INSERT INTO product_taxes (product_id, tax_id) VALUES (?, ?)",
            [(pid, t) for t in sorted(set(item.tax_ids))],
        )
    if item.stock_tracked and item.qty_available is not None:
        db.execute(
            "INSERT INTO stock (product_id, qty_available, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (product_id) DO UPDATE SET qty_available = excluded.qty_available, "
            "updated_at = excluded.updated_at",
            (pid, item.qty_available, values["updated_at"]),
        )
    listed = before is None or any(before[c] != values[c] for c in _LISTED_COLUMNS)
    barcodes = {b for b in (item.barcode, before["barcode"] if before else None) if b}
    touched = Touched(products=frozenset({pid}), barcodes=frozenset(barcodes), listings=listed)
    if not announce:
        return Change(0, touched)
    product = repository.get_product(db, money, pid)
    seq = record(db, "created" if before is None else "updated", touched, product=product)
    return Change(seq, touched, product)


def update_product(
    db: sqlite_utils.Database,
    money: Money,
    product_id: int,
    *,
    price: int | None = None,
    active: bool | None = None,
) -> Change:
    """Change a product's price and/or availability (archive: ``active=False``; an archived
    product stays in the table for the orders that name it)."""
    before = _row(db, product_id)
    if before is None:
        raise NotFound(f"product {product_id} does not exist", {"product_id": product_id})
    if price is not None and price < 0:
        raise ValidationFailed("price must not be negative", {"fields": {"price": "negative"}})
    new_price = before["price"] if price is None else price
    new_active = before["active"] if active is None else int(active)
    db.execute(
        "UPDATE products SET price = ?, active = ?, updated_at = ? WHERE id = ?",
        (new_price, new_active, now_iso(), product_id),
    )
    touched = Touched(
        products=frozenset({product_id}),
        barcodes=frozenset({before["barcode"]} if before["barcode"] else ()),
        listings=new_active != before["active"],
    )
    product = repository.get_product(db, money, product_id)
    kind = "price" if touched.listings is False else "availability"
    return Change(record(db, kind, touched, product=product), touched, product)


def insert_products(db: sqlite_utils.Database, items: Iterable[ProductInput]) -> Change:
    """Bulk-load new products (a first sync, a demo); products whose barcode exists are skipped.

    New products touch no cached product, only listings: one event for the batch.
    """
    now = now_iso()
    categories = _category_ids(db)
    rows = []
    for item in items:
        item = _check_item(item, categories)
        rows.append(
            (
                item.name, fold(item.name), item.barcode, item.default_code,
                fold(item.default_code) if item.default_code else None, item.price,
                item.category_id, int(item.active), int(item.sale_ok), int(item.stock_tracked),
                item.station, item.remote_id, now, item.qty_available, item.tax_ids or (),
            )
        )  # fmt: skip
    inserted = 0
    for row in rows:
        cursor = db.execute(
            "INSERT INTO products (name, name_key, barcode, default_code, code_key, price, "
            "category_id, active, sale_ok, stock_tracked, station, remote_id, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (barcode) DO NOTHING",
            row[:13],
        )
        if cursor.rowcount != 1:
            continue
        inserted += 1
        pid = cursor.lastrowid
        qty, tax_ids = row[13], row[14]
        if row[9] and qty is not None:
            db.execute(
                "INSERT INTO stock (product_id, qty_available, updated_at) VALUES (?, ?, ?)",
                (pid, qty, now),
            )
        db.conn.executemany(
            "INSERT INTO product_taxes (product_id, tax_id) VALUES (?, ?)",
            [(pid, t) for t in tax_ids],
        )
    touched = Touched(listings=inserted > 0)
    seq = record(db, "bulk_insert", touched, count=inserted)
    return Change(seq, touched, count=inserted)


def upsert_category(
    db: sqlite_utils.Database,
    name: str,
    *,
    sequence: int = 0,
    parent_id: int | None = None,
    remote_id: int | None = None,
    active: bool = True,
) -> tuple[int, Change]:
    """Create or update a category (matched by remote_id, else by name); returns its id."""
    clean = _clean("name", name, MAX_NAME, required=True)
    row = None
    if remote_id is not None:
        row = db.execute("SELECT id FROM categories WHERE remote_id = ?", (remote_id,)).fetchone()
    if row is None:
        row = db.execute("SELECT id FROM categories WHERE name = ?", (clean,)).fetchone()
    now = now_iso()
    if row is None:
        cursor = db.execute(
            "INSERT INTO categories (name, parent_id, sequence, active, remote_id, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (clean, parent_id, sequence, int(active), remote_id, now),
        )
        assert cursor.lastrowid is not None
        category_id = cursor.lastrowid
    else:
        category_id = int(row[0])
        db.execute(
            "UPDATE categories SET name = ?, parent_id = ?, sequence = ?, active = ?, "
            "remote_id = COALESCE(?, remote_id), updated_at = ? WHERE id = ?",
            (clean, parent_id, sequence, int(active), remote_id, now, category_id),
        )
    touched = Touched(categories=True, listings=True)
    seq = record(db, "category", touched, category_id=category_id)
    return category_id, Change(seq, touched, count=0)


def fold_missing_keys(db: sqlite_utils.Database) -> Change | None:
    """Fold the search keys of products written without them (by plain SQL, or
    before migration 0002); None when there were none. Run at start."""
    rows = db.execute(
        "SELECT id, name, default_code FROM products WHERE name_key IS NULL "
        "UNION SELECT id, name, default_code FROM products "
        "WHERE code_key IS NULL AND default_code IS NOT NULL"
    ).fetchall()
    if not rows:
        return None
    for pid, name, code in rows:
        db.execute(
            "UPDATE products SET name_key = ?, code_key = ? WHERE id = ?",
            (fold(name), fold(code) if code else None, pid),
        )
    touched = Touched(products=frozenset(r[0] for r in rows), listings=True)
    return Change(record(db, "search_keys", touched), touched, count=len(rows))


def _row(db: sqlite_utils.Database, product_id: int) -> dict[str, Any] | None:
    cursor = db.execute(
        "SELECT id, name, barcode, default_code, price, category_id, active, sale_ok "
        "FROM products WHERE id = ?",
        (product_id,),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))
