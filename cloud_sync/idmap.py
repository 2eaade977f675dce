"""Hub ids ↔ Odoo ids: the ``remote_id`` columns, read into what a payload needs.

The catalogue pull writes ``remote_id`` on products, taxes, categories and
payment methods; the pusher writes it on POS sessions when it books a hub
session into an Odoo one. A hub record without one (the demo store's own
products, say) cannot be sent: ``payloads`` raises ``Unmapped`` for it and
the order is parked until a pull maps it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import sqlite_utils

from cloud_sync.payloads import RemoteRefs


@dataclass(frozen=True, slots=True)
class IdMap:
    """A snapshot of the hub → Odoo ids, taken in one read transaction per batch."""

    products: Mapping[int, int]
    payment_methods: Mapping[int, int]
    taxes: Mapping[int, int]
    sessions: Mapping[int, int]

    def refs(
        self,
        *,
        user_id: int,
        pricelist_id: int | None,
        order_lines: Mapping[int, int] | None = None,
    ) -> RemoteRefs:
        return RemoteRefs(
            user_id=user_id,
            sessions=self.sessions,
            products=self.products,
            payment_methods=self.payment_methods,
            taxes=self.taxes,
            order_lines=order_lines or {},
            pricelist_id=pricelist_id,
        )

    def with_sessions(self, sessions: Mapping[int, int]) -> IdMap:
        return replace(self, sessions={**self.sessions, **sessions})


def load(db: sqlite_utils.Database, session_ids: Iterable[int]) -> IdMap:
    """The ids a batch of orders from ``session_ids`` may mention."""
    sessions = sorted(set(session_ids))
    marks = ",".join("?" * len(sessions)) or "NULL"
    return IdMap(
        products=_remote_ids(db, "products"),
        payment_methods=_remote_ids(db, "payment_methods"),
        taxes=_remote_ids(db, "taxes"),
        sessions=dict(
            db.execute(
                f"SELECT id, remote_id FROM pos_sessions WHERE remote_id IS NOT NULL "
                f"AND id IN ({marks})",
                sessions,
            ).fetchall()
        ),
    )


def _remote_ids(db: sqlite_utils.Database, table: str) -> dict[int, int]:
    rows = db.execute(f"SELECT id, remote_id FROM {table} WHERE remote_id IS NOT NULL")
    return dict(rows.fetchall())


def map_sessions(db: sqlite_utils.Database, hub_session_ids: Iterable[int], remote_id: int) -> None:
    """Book these hub sessions into the Odoo session ``remote_id`` from now on."""
    db.conn.executemany(
        "UPDATE pos_sessions SET remote_id = ? WHERE id = ?",
        [(remote_id, hub_id) for hub_id in hub_session_ids],
    )
