"""The catalogue write service: the search index and the event log move with the product."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlite_utils

from hub import sessions
from hub.auth.users import Actor, add_user, disable_user
from hub.catalog import edits
from hub.catalog.edits import ProductInput, Touched
from hub.catalog.search import Query, search
from hub.db.connection import immediate, open_db
from hub.errors import Conflict, NotFound, ValidationFailed
from hub.orders.money import Money
from hub.settings import Settings

money = Money()


@pytest.fixture
def db(settings: Settings) -> Iterator[sqlite_utils.Database]:
    conn = open_db(settings)
    yield conn
    conn.close()


def found(db: sqlite_utils.Database, q: str, **filters: object) -> list[int]:
    return [pid for pid, _ in search(db, Query.parse(q, **filters), 50)]  # type: ignore[arg-type]


def catalog_events(db: sqlite_utils.Database) -> list[dict[str, object]]:
    rows = db.execute("SELECT data FROM events WHERE event = 'catalog.updated' ORDER BY seq")
    return [json.loads(r[0]) for r in rows.fetchall()]


def product_id(db: sqlite_utils.Database, name: str) -> int:
    return int(db.execute("SELECT id FROM products WHERE name = ?", (name,)).fetchone()[0])


def test_renamed_product_is_found_by_its_new_name_only(db: sqlite_utils.Database) -> None:
    """The trigram index follows a rename in the writer's own transaction."""
    pid = product_id(db, "Gazpacho")
    with immediate(db):
        edits.upsert_product(
            db, money, ProductInput(name="Salmorejo Cordobés", price=650), product_id=pid
        )
    assert found(db, "salmorejo") == [pid]
    assert found(db, "cordobes") == [pid]
    assert found(db, "gazpacho") == []


def test_archived_product_leaves_the_till_search(db: sqlite_utils.Database) -> None:
    """Archiving takes a product off the till at once, and a manager can still find it."""
    pid = product_id(db, "Coleslaw")
    with immediate(db):
        change = edits.update_product(db, money, pid, active=False)
    assert change.touched.listings
    assert found(db, "coleslaw") == []
    assert found(db, "coleslaw", available="no") == [pid]


def test_price_change_names_the_product_and_leaves_listings(db: sqlite_utils.Database) -> None:
    """A price change invalidates one product, not every cached search page."""
    pid = product_id(db, "Espresso")
    with immediate(db):
        change = edits.update_product(db, money, pid, price=250)
    assert change.product is not None and change.product.price == "2.50"
    assert change.touched == Touched(
        products=frozenset({pid}), barcodes=frozenset({change.product.barcode})
    )
    event = catalog_events(db)[-1]
    assert event["change"] == "price" and event["products"] == [pid]
    assert event["listings"] is False


def test_a_failed_write_leaves_neither_change_nor_event(db: sqlite_utils.Database) -> None:
    """The event is in the transaction of the change: rolled back together."""
    pid = product_id(db, "Espresso")
    before = len(catalog_events(db))
    with pytest.raises(RuntimeError), immediate(db):
        edits.update_product(db, money, pid, price=999)
        raise RuntimeError("the writer died here")
    assert db.execute("SELECT price FROM products WHERE id = ?", (pid,)).fetchone()[0] == 220
    assert len(catalog_events(db)) == before


def test_upsert_by_barcode_updates_instead_of_duplicating(db: sqlite_utils.Database) -> None:
    """Head office sends a known barcode again: the product is updated in place."""
    barcode = db.execute("SELECT barcode FROM products WHERE name = 'Lemonade'").fetchone()[0]
    count = db.execute("SELECT COUNT(*) FROM products").fetchone()[0]
    with immediate(db):
        change = edits.upsert_product(
            db, money, ProductInput(name="Lemonade (fresh)", price=420, barcode=barcode)
        )
    assert db.execute("SELECT COUNT(*) FROM products").fetchone()[0] == count
    assert change.product is not None and change.product.name == "Lemonade (fresh)"


def test_new_product_is_searchable_and_announced(db: sqlite_utils.Database) -> None:
    """A created product is in the index and in a catalog.updated event at once."""
    with immediate(db):
        change = edits.upsert_product(
            db, money, ProductInput(name="Piña Colada", price=800, default_code="BAR-77")
        )
    assert change.product is not None
    assert found(db, "pina col") == [change.product.id]
    assert found(db, "bar-77") == [change.product.id]
    assert catalog_events(db)[-1]["change"] == "created"


def test_barcode_taken_by_another_product_is_a_conflict(db: sqlite_utils.Database) -> None:
    """Two products never share a barcode: the second claim is refused, nothing written."""
    barcode = db.execute("SELECT barcode FROM products WHERE name = 'Fries'").fetchone()[0]
    pid = product_id(db, "Onion Rings")
    with pytest.raises(Conflict), immediate(db):
        edits.upsert_product(
            db, money, ProductInput(name="Onion Rings", price=400, barcode=barcode), pid
        )


def test_bad_inputs_are_refused(db: sqlite_utils.Database) -> None:
    """Empty names, negative prices, unknown products and categories are 4xx errors."""
    with pytest.raises(ValidationFailed), immediate(db):
        edits.upsert_product(db, money, ProductInput(name="  ", price=100))
    with pytest.raises(ValidationFailed), immediate(db):
        edits.upsert_product(db, money, ProductInput(name="x", price=-1))
    with pytest.raises(ValidationFailed), immediate(db):
        edits.upsert_product(db, money, ProductInput(name="x", price=1, category_id=9999))
    with pytest.raises(NotFound), immediate(db):
        edits.update_product(db, money, 9999, price=100)
    known = db.execute("SELECT MIN(id) FROM categories").fetchone()[0]
    batch = [ProductInput(name="a", price=1, category_id=known)]
    with pytest.raises(ValidationFailed, match="category 9999"), immediate(db):
        edits.insert_products(db, [*batch, ProductInput(name="b", price=1, category_id=9999)])
    assert db.execute("SELECT COUNT(*) FROM products WHERE name IN ('a', 'b')").fetchone() == (0,)


def test_rows_written_without_keys_are_folded_at_start(db: sqlite_utils.Database) -> None:
    """A product inserted by plain SQL is found by ASCII at once and accent-blind after folding."""
    with immediate(db):
        db.execute(
            "INSERT INTO products (name, price, updated_at) VALUES ('Crêpe Suzette', 700, 'x')"
        )
    pid = product_id(db, "Crêpe Suzette")
    assert found(db, "suzette") == [pid]
    assert found(db, "crepe") == []
    with immediate(db):
        change = edits.fold_missing_keys(db)
    assert change is not None and pid in change.touched.products
    assert found(db, "crepe") == [pid]


def test_index_stays_consistent_through_many_writes(db: sqlite_utils.Database) -> None:
    """After inserts, renames, barcode changes and deletes, FTS5's own check passes."""
    with immediate(db):
        ids = []
        for i in range(50):
            change = edits.upsert_product(
                db, money, ProductInput(name=f"Tapa {i} Ibérica", price=300 + i, barcode=f"99{i}")
            )
            assert change.product is not None
            ids.append(change.product.id)
        for pid in ids[::3]:
            edits.upsert_product(
                db, money, ProductInput(name="Tapa renombrada", price=1, barcode=f"77{pid}"), pid
            )
        for pid in ids[1::5]:
            db.execute("DELETE FROM products WHERE id = ?", (pid,))
    db.execute("INSERT INTO product_search (product_search) VALUES ('integrity-check')")
    assert sorted(found(db, "renombrada")) == sorted(set(ids[::3]) - set(ids[1::5]))
    assert found(db, "990") == []  # ids[0]'s barcode before it was changed


def test_touched_survives_the_event_log_round_trip() -> None:
    """What a writer touched reaches another process's cache intact through the log."""
    touched = Touched(
        products=frozenset({1, 2}), barcodes=frozenset({"123"}), categories=True, listings=True
    )
    assert Touched.from_event(json.loads(json.dumps(touched.event_data()))) == touched
    many = Touched(products=frozenset(range(1000)))
    assert Touched.from_event(many.event_data()).all_products


def last_rooms(db: sqlite_utils.Database) -> list[str]:
    row = db.execute("SELECT rooms FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return str(row[0]).split()


def open_till(db: sqlite_utils.Database, login: str = "ana") -> int:
    """Open a session for ``login`` straight in the database; its id."""
    user_id, name, role = db.execute(
        "SELECT id, name, role FROM users WHERE login = ?", (login,)
    ).fetchone()
    with immediate(db):
        session = sessions.open_session(
            db, money, Actor(user_id, role, name), terminal="till-1", opening_cash=0
        )
    return session.id


def test_catalogue_change_reaches_every_open_till_and_no_closed_one(
    db: sqlite_utils.Database,
) -> None:
    """Tills may not join ``store``: a price change must be in each open session's room."""
    first, second, closed = open_till(db), open_till(db, "marco"), open_till(db)
    with immediate(db):
        sessions.close_session(db, money, Actor(None, "admin", "system"), closed, closing_cash=0)
        edits.update_product(db, money, product_id(db, "Espresso"), price=250)
    assert last_rooms(db) == ["store", f"session:{first}", f"session:{second}"]


def test_every_open_session_is_named_however_many(db: sqlite_utils.Database) -> None:
    """No cap on the rooms: a till left out would sell at a stale price."""
    opened = [open_till(db) for _ in range(60)]
    with immediate(db):
        edits.upsert_category(db, "Specials")
    assert last_rooms(db) == ["store", *(f"session:{s}" for s in opened)]


def test_staff_change_stays_in_the_store_room(db: sqlite_utils.Database) -> None:
    """Cashiers need not hear who else works here, even on an open till."""
    open_till(db)
    with immediate(db):
        add_user(db, login="ana", name="Ana B.", role="cashier", pin="4321", iterations=1000)
    assert last_rooms(db) == ["store"]
    with immediate(db):
        disable_user(db, "ana")
    assert last_rooms(db) == ["store"]
