"""The schema, as an ordered set of named migrations (sqlite-utils ``Migrations``).

Append new migrations at the end; never edit one that has shipped. Money is
stored as integer minor units (cents), quantities and tax rates as decimal
strings: SQLite has no decimal type and floats must never touch money.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from hub.db.connection import immediate

migrations = Migrations("edgehub")


@migrations(name="0001_core")
def core(db: sqlite_utils.Database) -> None:
    for statement in _CORE_SCHEMA.split(";\n"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0002_catalog_search")
def catalog_search(db: sqlite_utils.Database) -> None:
    """Folded search keys on products and a trigram index over them, kept by triggers.

    ``name_key`` and ``code_key`` are written by ``hub.catalog.edits`` (folding
    needs Python); ``search_key`` is derived from them in SQL, so the FTS5 index
    follows every insert, update and delete in the writer's own transaction,
    whoever the writer is. A row written without keys still gets indexed, by
    SQLite's ASCII ``lower()``, until the service folds it.
    """
    from hub.catalog.folding import fold

    for statement in _SEARCH_SCHEMA:
        db.execute(statement)
    rows = db.execute("SELECT id, name, default_code FROM products").fetchall()
    for pid, name, code in rows:
        db.execute(
            "UPDATE products SET name_key = ?, code_key = ? WHERE id = ?",
            (fold(name), fold(code) if code else None, pid),
        )
    db.execute("INSERT INTO product_search (product_search) VALUES ('rebuild')")


@migrations(name="0002_kitchen")
def kitchen(db: sqlite_utils.Database) -> None:
    """Kitchen devices, the jobs sent to them, and which stations have bumped an order ready."""
    for statement in _KITCHEN_SCHEMA.split(";\n"):
        if statement.strip():
            db.execute(statement)


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations under one write lock; returns the names applied.

    BEGIN IMMEDIATE first, so two processes starting together cannot both
    decide a migration is pending: the second waits, then finds nothing to do.
    """
    with immediate(db):
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    return pending


def pending(db: sqlite_utils.Database) -> list[str]:
    return [m.name for m in migrations.pending(db)]


_CORE_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('cashier', 'manager', 'kitchen', 'device', 'admin')),
    pin_hash TEXT,
    password_hash TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    remote_id INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES categories(id),
    sequence INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    remote_id INTEGER UNIQUE,
    updated_at TEXT NOT NULL
);
CREATE TABLE taxes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    amount TEXT NOT NULL,
    price_include INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    remote_id INTEGER UNIQUE,
    updated_at TEXT NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    barcode TEXT UNIQUE,
    default_code TEXT,
    price INTEGER NOT NULL CHECK (price >= 0),
    category_id INTEGER REFERENCES categories(id),
    active INTEGER NOT NULL DEFAULT 1,
    sale_ok INTEGER NOT NULL DEFAULT 1,
    stock_tracked INTEGER NOT NULL DEFAULT 0,
    station TEXT,
    remote_id INTEGER UNIQUE,
    updated_at TEXT NOT NULL
);
CREATE INDEX products_category ON products (category_id, id);
CREATE INDEX products_default_code ON products (default_code);
CREATE TABLE product_taxes (
    product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    tax_id INTEGER NOT NULL REFERENCES taxes(id),
    PRIMARY KEY (product_id, tax_id)
) WITHOUT ROWID;
CREATE TABLE stock (
    product_id INTEGER PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE,
    qty_available TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE payment_methods (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    is_cash INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    remote_id INTEGER UNIQUE,
    updated_at TEXT NOT NULL
);
CREATE TABLE pos_sessions (
    id INTEGER PRIMARY KEY,
    terminal TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    opening_cash INTEGER NOT NULL,
    closing_cash INTEGER,
    order_seq INTEGER NOT NULL DEFAULT 0,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    remote_id INTEGER
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    body_hash TEXT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    number INTEGER NOT NULL,
    session_id INTEGER NOT NULL REFERENCES pos_sessions(id),
    state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    amount_untaxed INTEGER NOT NULL DEFAULT 0,
    amount_tax INTEGER NOT NULL DEFAULT 0,
    amount_total INTEGER NOT NULL DEFAULT 0,
    amount_paid INTEGER NOT NULL DEFAULT 0,
    change INTEGER NOT NULL DEFAULT 0,
    kitchen_status TEXT,
    sync_state TEXT NOT NULL DEFAULT 'local',
    sync_remote_id INTEGER,
    sync_error TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_session ON orders (session_id, id);
CREATE INDEX orders_state ON orders (state, id);
CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    product_id INTEGER NOT NULL REFERENCES products(id),
    name TEXT NOT NULL,
    qty TEXT NOT NULL,
    price_unit INTEGER NOT NULL,
    price_manual INTEGER NOT NULL DEFAULT 0,
    discount TEXT NOT NULL DEFAULT '0',
    override_by INTEGER REFERENCES users(id),
    tax_ids TEXT NOT NULL DEFAULT '[]',
    tax_amount INTEGER NOT NULL DEFAULT 0,
    subtotal INTEGER NOT NULL DEFAULT 0,
    subtotal_incl INTEGER NOT NULL DEFAULT 0,
    station TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_lines_order ON order_lines (order_id, position);
CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    method_id INTEGER NOT NULL REFERENCES payment_methods(id),
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    amount INTEGER NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id)
);
CREATE INDEX payments_order ON payments (order_id);
CREATE TABLE order_history (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    event TEXT NOT NULL,
    at TEXT NOT NULL,
    by_user INTEGER REFERENCES users(id),
    reason TEXT
);
CREATE INDEX order_history_order ON order_history (order_id, id);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    ts TEXT NOT NULL,
    rooms TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE cursors (
    consumer TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    updated_at TEXT NOT NULL
)
"""

# Statements one by one: trigger bodies hold semicolons of their own.
_SEARCH_SCHEMA = (
    "ALTER TABLE products ADD COLUMN name_key TEXT",
    "ALTER TABLE products ADD COLUMN code_key TEXT",
    # A leading space, so that ' ' || word finds a word start anywhere, the first included.
    """ALTER TABLE products ADD COLUMN search_key TEXT GENERATED ALWAYS AS (
        ' ' || COALESCE(name_key, lower(name)) || ' ' || lower(COALESCE(barcode, '')) || ' '
        || COALESCE(code_key, lower(default_code), '')
    ) VIRTUAL""",
    "CREATE INDEX products_name_key ON products (name_key, id)",
    "CREATE INDEX products_code_key ON products (code_key, id)",
    """CREATE VIRTUAL TABLE product_search USING fts5(
        search_key, content='products', content_rowid='id',
        tokenize='trigram case_sensitive 1'
    )""",
    # Document frequency of every trigram: search picks the rarest part of a query.
    "CREATE VIRTUAL TABLE product_trigrams USING fts5vocab(product_search, row)",
    """CREATE TRIGGER products_search_insert AFTER INSERT ON products BEGIN
        INSERT INTO product_search (rowid, search_key) VALUES (new.id, new.search_key);
    END""",
    """CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN
        INSERT INTO product_search (product_search, rowid, search_key)
        VALUES ('delete', old.id, old.search_key);
    END""",
    """CREATE TRIGGER products_search_update
    AFTER UPDATE OF name, name_key, barcode, default_code, code_key ON products BEGIN
        INSERT INTO product_search (product_search, rowid, search_key)
        VALUES ('delete', old.id, old.search_key);
        INSERT INTO product_search (rowid, search_key) VALUES (new.id, new.search_key);
    END""",
)

# --- 0003_ops: audit trail and periodic job status (hub.audit, hub.periodic) ----------------


@migrations(name="0003_ops")
def ops(db: sqlite_utils.Database) -> None:
    """The hash-chained audit table, append-only by trigger, and the jobs' last outcomes.

    The triggers stop the hub itself (or a careless script) from changing history;
    someone with the file can drop them, which is what the hash chain is for.
    """
    for statement in _OPS_SCHEMA:
        db.execute(statement)


_OPS_SCHEMA = (
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        actor_id INTEGER,
        actor TEXT NOT NULL,
        subject TEXT NOT NULL,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX audit_subject ON audit (subject, id)",
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN
        SELECT RAISE(ABORT, 'the audit trail is append-only');
    END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN
        SELECT RAISE(ABORT, 'the audit trail is append-only');
    END""",
    """CREATE TABLE job_runs (
        name TEXT PRIMARY KEY,
        interval_seconds REAL NOT NULL,
        owner TEXT,
        started_at TEXT,
        finished_at TEXT,
        outcome TEXT,
        duration_ms REAL,
        error TEXT,
        note TEXT,
        runs INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        last_success_at TEXT
    )""",
)
# Devices are registered by hand (``edgehub device add``); the status columns are
# what the device last reported on its retained status topic. A kitchen job is
# one ticket for one station: ``job_id`` is stable, so a re-send is the same job
# and a device can drop what it has already handled. ``next_attempt_at`` (unix
# seconds) is set while the job still wants a device's ack and NULL once it does
# not (acked or void). The meaning of each state is in docs/kitchen.md.
_KITCHEN_SCHEMA = """
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('printer', 'kds')),
    station TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('primary', 'backup')),
    online INTEGER NOT NULL DEFAULT 0,
    paper TEXT CHECK (paper IN ('ok', 'low', 'out')),
    cover TEXT CHECK (cover IN ('closed', 'open')),
    error TEXT,
    firmware TEXT,
    last_seen TEXT,
    status_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX devices_station ON devices (station, role, id);
CREATE TABLE kitchen_jobs (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    station TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('new', 'cancel')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'acked', 'failed', 'void')),
    device TEXT,
    backup INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    payload TEXT NOT NULL,
    ack_status TEXT CHECK (ack_status IN ('printed', 'shown')),
    acked_by TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    acked_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX kitchen_jobs_due ON kitchen_jobs (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX kitchen_jobs_state ON kitchen_jobs (state, id);
CREATE INDEX kitchen_jobs_order ON kitchen_jobs (order_id, station);
CREATE INDEX kitchen_jobs_device ON kitchen_jobs (device, state);
CREATE TABLE kitchen_ready (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    station TEXT NOT NULL,
    device TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (order_id, station)
) WITHOUT ROWID
"""


# --- 0004_sync: the Odoo sync agent (cloud_sync) -----------------------------------


@migrations(name="0004_sync")
def sync(db: sqlite_utils.Database) -> None:
    """The Odoo sync agent's outbox, its state, catalogue watermarks and mirrored sessions."""
    for statement in _SYNC_SCHEMA.split(";\n"):
        if statement.strip():
            db.execute(statement)


# cloud_sync owns these tables (see docs/sync.md). The outbox holds one row per
# thing to hand to Odoo: a finished order ("sale") or the refund of a paid
# order that was cancelled; ``uuid`` is its idempotency key at Odoo.
_SYNC_SCHEMA = """
CREATE TABLE sync_outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
    order_id INTEGER NOT NULL REFERENCES orders(id),
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES pos_sessions(id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    in_flight INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    error_kind TEXT,
    remote_id INTEGER,
    event_seq INTEGER NOT NULL,
    event_ts TEXT NOT NULL,
    enqueued_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (order_id, kind)
);
CREATE INDEX sync_outbox_state ON sync_outbox (state, id);
CREATE TABLE sync_agent (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    state TEXT NOT NULL DEFAULT 'stopped',
    pid INTEGER,
    started_at TEXT,
    heartbeat_at TEXT,
    remote_url TEXT,
    remote_version INTEGER,
    reachable INTEGER,
    last_success_at TEXT,
    last_error TEXT,
    last_error_at TEXT,
    last_pull_at TEXT,
    summary TEXT
);
CREATE TABLE sync_watermarks (
    model TEXT PRIMARY KEY,
    write_date TEXT,
    reconciled_at TEXT
);
CREATE TABLE sync_remote_sessions (
    remote_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('opened', 'closed')),
    opened_at TEXT NOT NULL,
    closed_at TEXT
)
"""


# --- 0005_kitchen_retention: what the pruning of kitchen jobs reads ------------------


@migrations(name="0005_kitchen_retention")
def kitchen_retention(db: sqlite_utils.Database) -> None:
    """An index of finished kitchen jobs by their last change, for ``event_prune``.

    Partial: open jobs change at every send and retry and never leave by age,
    so they stay out of it. The prune names it (``INDEXED BY``, in
    ``hub.kitchen_jobs.PRUNE_FINISHED``) and its WHERE names the same
    states: SQLite uses a partial index only when the query's WHERE implies
    the index's.
    """
    for statement in _KITCHEN_RETENTION_SCHEMA:
        db.execute(statement)


_KITCHEN_RETENTION_SCHEMA = (
    "CREATE INDEX kitchen_jobs_finished ON kitchen_jobs (updated_at) "
    "WHERE state IN ('acked', 'void')",
)


# --- 0006_login_failures: the login throttle, shared by every worker ---------------


@migrations(name="0006_login_failures")
def login_failures(db: sqlite_utils.Database) -> None:
    """Failed logins of the last window, per login and per address (``hub.auth.throttle``)."""
    for statement in _LOGIN_FAILURES_SCHEMA:
        db.execute(statement)


_LOGIN_FAILURES_SCHEMA = (
    "CREATE TABLE login_failures (key TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX login_failures_key ON login_failures (key, at)",
)


# --- 0007_catalog_local: products a manager made on the hub ---------------------------


@migrations(name="0007_catalog_local")
def catalog_local(db: sqlite_utils.Database) -> None:
    """``products.local_only``: made on the hub (API, CLI, CSV import), not head office's.

    The Odoo pull links an unlinked hub product with the same barcode to the
    Odoo record (a store that ran offline first keeps its ids); a product a
    manager flagged local is never linked that way, nor overwritten.
    """
    db.execute("ALTER TABLE products ADD COLUMN local_only INTEGER NOT NULL DEFAULT 0")


# --- 0008_session_floor: order names never repeat after a restore --------------------


@migrations(name="0008_session_floor")
def session_floor(db: sqlite_utils.Database) -> None:
    """The lowest session id a new session may take (``hub.order_names``).

    A restore puts an older file in place; the sessions it lacks may have
    printed tickets or reached Odoo under names ``{store}-{session}-{n}``. The
    restore records here the highest session id ever issued, and new sessions
    start above it.
    """
    db.execute(
        "CREATE TABLE session_floor (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "session_id INTEGER NOT NULL)"
    )


# --- 0009_faults: the faults the watch last saw, so each is logged once --------------


@migrations(name="0009_faults")
def faults(db: sqlite_utils.Database) -> None:
    """One row per fault now open (``hub.faults``): what it was, since when, when first seen."""
    db.execute(
        "CREATE TABLE faults (key TEXT PRIMARY KEY, what TEXT NOT NULL, since TEXT, "
        "level INTEGER NOT NULL, noted_at TEXT NOT NULL)"
    )
