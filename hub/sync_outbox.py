"""The sync outbox table as every process reads it: counts, parked rows, retry, prune.

One durable row per finished order and per refund: what the hub owes Odoo.
The sync agent fills and drains it (``cloud_sync.outbox``) and forgets rows
long done (``prune``); the status API, ``/health``, ``edgehub status`` and
``edgehub sync retry`` read it or put a parked row back. Rows go
``pending`` → ``done`` (with Odoo's id) or ``failed`` (parked with Odoo's
message until someone retries it).

Every function runs inside the caller's write (or read) transaction; the
order's ``sync_state``/``sync_remote_id``/``sync_error`` columns are kept in
step with its rows (``refresh_orders``), so the order's public shape tells
the same story.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlite_utils

from hub.clock import now_iso
from hub.errors import Conflict, NotFound

CONSUMER = "sync"
"""The sync agent's cursor on the event log."""
CHUNK = 500  # ids per IN (...) list


def refresh_orders(db: sqlite_utils.Database, order_ids: Iterable[int]) -> None:
    """Set each order's sync columns from its outbox rows (no order.updated: bookkeeping only)."""
    unique = sorted(set(order_ids))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        db.execute(
            "UPDATE orders SET "
            "sync_state = COALESCE((SELECT CASE WHEN SUM(o.state = 'failed') > 0 THEN 'failed' "
            "  WHEN SUM(o.state = 'pending') > 0 THEN 'pending' ELSE 'synced' END "
            "  FROM sync_outbox o WHERE o.order_id = orders.id), sync_state), "
            "sync_remote_id = (SELECT o.remote_id FROM sync_outbox o "
            "  WHERE o.order_id = orders.id AND o.kind = 'sale'), "
            "sync_error = (SELECT o.error FROM sync_outbox o "
            "  WHERE o.order_id = orders.id AND o.state = 'failed' ORDER BY o.id LIMIT 1) "
            f"WHERE id IN ({marks})",
            chunk,
        )


# -- parked rows -----------------------------------------------------------------------------

_PUBLIC = (
    "SELECT o.id, o.kind, o.order_id, r.name, o.uuid, o.state, o.error, o.error_kind, "
    "o.attempts, o.remote_id, o.enqueued_at, o.updated_at "
    "FROM sync_outbox o JOIN orders r ON r.id = o.order_id"
)


def _public(row: Sequence[Any]) -> dict[str, Any]:
    keys = (
        "id",
        "kind",
        "order_id",
        "order_name",
        "uuid",
        "state",
        "error",
        "error_kind",
        "attempts",
        "remote_id",
        "enqueued_at",
        "updated_at",
    )
    return dict(zip(keys, row, strict=True))


def parked(db: sqlite_utils.Database, limit: int = 100) -> list[dict[str, Any]]:
    """Parked rows, oldest first, with Odoo's message: what a manager has to look at."""
    rows = db.execute(f"{_PUBLIC} WHERE o.state = 'failed' ORDER BY o.id LIMIT ?", (limit,))
    return [_public(r) for r in rows.fetchall()]


def retry(db: sqlite_utils.Database, item_id: int) -> dict[str, Any]:
    """Put one parked row back in the queue (after the cause was fixed)."""
    row = db.execute("SELECT state FROM sync_outbox WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise NotFound(f"no sync item {item_id}", {"id": item_id})
    if row[0] != "failed":
        raise Conflict(
            "not_parked", f"sync item {item_id} is {row[0]}, not failed", {"state": row[0]}
        )
    _requeue(db, "id = ?", (item_id,))
    found = db.execute(f"{_PUBLIC} WHERE o.id = ?", (item_id,)).fetchone()
    return _public(found)


def retry_all(db: sqlite_utils.Database, *, error_kind: str | None = None) -> int:
    """Put every parked row (or those parked for ``error_kind``) back in the queue."""
    if error_kind is None:
        return _requeue(db, "state = 'failed'", ())
    return _requeue(db, "state = 'failed' AND error_kind = ?", (error_kind,))


def _requeue(db: sqlite_utils.Database, where: str, params: tuple[Any, ...]) -> int:
    orders = [r[0] for r in db.execute(f"SELECT order_id FROM sync_outbox WHERE {where}", params)]
    cursor = db.execute(
        "UPDATE sync_outbox SET state = 'pending', error = NULL, error_kind = NULL, "
        f"updated_at = ? WHERE {where}",
        (now_iso(), *params),
    )
    refresh_orders(db, orders)
    return cursor.rowcount


def counts(db: sqlite_utils.Database) -> Mapping[str, int]:
    """Rows not yet done, by state (``pending``, ``failed``)."""
    rows = db.execute(
        "SELECT state, COUNT(*) FROM sync_outbox WHERE state IN ('pending', 'failed') "
        "GROUP BY state"
    ).fetchall()
    found = {"pending": 0, "failed": 0}
    found.update({state: int(n) for state, n in rows})
    return found


def prune(db: sqlite_utils.Database, before: str) -> int:
    """Forget rows done before ``before``: the order keeps its sync state and Odoo id."""
    return db.execute(
        "DELETE FROM sync_outbox WHERE state = 'done' AND updated_at < ?", (before,)
    ).rowcount
