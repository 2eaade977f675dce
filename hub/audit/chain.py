"""An append-only, hash-chained table: each row's hash covers the one before it.

``hash = sha256(prev_hash + canonical JSON of the row's own fields)``, the first
row chaining to 64 zeros. Editing any field of any row, deleting a row in the
middle or reordering rows changes a hash that a later row (or the row itself)
vouches for, so ``verify`` stops at the first row that no longer fits.

What the chain cannot show is rows cut off the end: compare the head that
``verify`` prints with one noted earlier (a backup holds one too).

Concurrency: ``append`` reads the head inside the caller's write transaction.
In the hub process every write goes through the one writer thread; across
processes ``BEGIN IMMEDIATE`` holds SQLite's write lock from the first read to
the commit, so two appends can never chain to the same head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from hub.auth.users import Actor
from hub.clock import now_iso

GENESIS = "0" * 64
_COLUMNS = "id, at, action, actor_id, actor, subject, data, prev_hash, hash"


def canonical(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()


def _fields(
    row_id: int, at: str, action: str, actor_id: int | None, actor: str, subject: str, data: str
) -> dict[str, Any]:
    # ``data`` is hashed as the stored text, so even a whitespace edit shows.
    return {
        "id": row_id,
        "at": at,
        "action": action,
        "actor_id": actor_id,
        "actor": actor,
        "subject": subject,
        "data": data,
    }


def append(
    db: sqlite_utils.Database, action: str, actor: Actor, subject: str, data: dict[str, Any]
) -> int:
    """Append one row inside the caller's open write transaction; returns its id."""
    if not db.conn.in_transaction:
        raise RuntimeError("audit rows are written in the transaction of the change they record")
    rows, prev = head(db)
    row_id = rows + 1
    at, text = now_iso(), canonical(data)
    digest = row_hash(prev, _fields(row_id, at, action, actor.id, actor.name, subject, text))
    db.execute(
        f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row_id, at, action, actor.id, actor.name, subject, text, prev, digest),
    )
    return row_id


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``verify`` found: the rows it proved, and where the chain broke if it did."""

    rows: int
    head: str
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def _rows(db: sqlite_utils.Database, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    last = 0
    while True:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM audit WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
        ).fetchall()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def verify(db: sqlite_utils.Database) -> Verdict:
    """Walk the chain from the first row; stop at the first row that does not fit."""
    prev, count = GENESIS, 0
    for row_id, at, action, actor_id, actor, subject, data, prev_hash, digest in _rows(db):
        if prev_hash != prev:
            return Verdict(count, prev, row_id, "does not chain to the row before it")
        expected = row_hash(prev, _fields(row_id, at, action, actor_id, actor, subject, data))
        if digest != expected:
            return Verdict(count, prev, row_id, "its fields do not match its hash")
        prev, count = digest, count + 1
    return Verdict(count, prev)


def head(db: sqlite_utils.Database) -> tuple[int, str]:
    """Rows so far and the newest hash, cheaply (no proof)."""
    row = db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)
