"""The Odoo POS session the hub's sessions are booked into, opened and closed to mirror them.

Odoo allows one open session per POS configuration, while a hub may run a
session per till. So every hub session that has something to push is booked
into the configuration's one open Odoo session (opened on first need, or
found open after a restart), and that Odoo session is closed once every hub
session booked into it is closed and all of their orders are at Odoo.

When Odoo refuses an order because its session was closed meanwhile (18+:
"No open session available"), ``reopen`` books the hub sessions into a fresh
one; 16 and 17 put such orders in a rescue session by themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlite_utils

from cloud_sync import idmap
from cloud_sync.errors import Rejected
from cloud_sync.odoo import OdooClient
from hub.clock import now_iso
from hub.db.store import Store

log = logging.getLogger("edgehub.sync")

NO_OPEN_SESSION = "No open session available"


class RemoteSessions:
    """Opens, books into and closes the Odoo session of one POS configuration."""

    def __init__(self, client: OdooClient, store: Store, config_id: int) -> None:
        self.client = client
        self.store = store
        self.config_id = config_id
        self._current: int | None = None

    async def book(self, hub_session_ids: Iterable[int]) -> dict[int, int]:
        """Book hub sessions that have no Odoo session yet; returns hub id → Odoo id."""
        missing = sorted(set(hub_session_ids))
        if not missing:
            return {}
        remote = await self._open()
        await self.store.write(idmap.map_sessions, missing, remote)
        return dict.fromkeys(missing, remote)

    async def reopen(self, hub_session_ids: Iterable[int]) -> dict[int, int]:
        """The Odoo session in use was closed under us: book into a new one."""
        self._current = None
        return await self.book(hub_session_ids)

    async def _open(self) -> int:
        if self._current is None:
            # Finds the configuration's open session if there is one (after a
            # restart, or one opened at head office), else creates and opens one.
            remote = await self.client.open_session(self.config_id)
            await self.store.write(_remember_opened, remote)
            log.info("odoo_session_in_use remote_session=%s", remote)
            self._current = remote
        return self._current

    async def close_finished(self) -> list[int]:
        """Close the Odoo sessions whose hub sessions are closed and fully pushed.

        Call only when the log is tailed to its head, so that every order of
        those sessions is in the outbox. A refusal (Odoo still holds a draft)
        is logged and tried again on a later call.
        """
        closed: list[int] = []
        for remote in await self.store.read(_closable):
            try:
                await self.client.close_session(remote)
            except Rejected as exc:
                log.warning("odoo_session_not_closed remote_session=%s error=%s", remote, exc)
                continue
            await self.store.write(_remember_closed, remote)
            log.info("odoo_session_closed remote_session=%s", remote)
            if self._current == remote:
                self._current = None
            closed.append(remote)
        return closed


def _remember_opened(db: sqlite_utils.Database, remote: int) -> None:
    db.execute(
        "INSERT INTO sync_remote_sessions (remote_id, state, opened_at) VALUES (?, 'opened', ?) "
        "ON CONFLICT (remote_id) DO UPDATE SET state = 'opened', closed_at = NULL",
        (remote, now_iso()),
    )


def _remember_closed(db: sqlite_utils.Database, remote: int) -> None:
    db.execute(
        "UPDATE sync_remote_sessions SET state = 'closed', closed_at = ? WHERE remote_id = ?",
        (now_iso(), remote),
    )


def _closable(db: sqlite_utils.Database) -> list[int]:
    rows = db.execute(
        "SELECT r.remote_id FROM sync_remote_sessions r WHERE r.state = 'opened' "
        "AND EXISTS (SELECT 1 FROM pos_sessions s WHERE s.remote_id = r.remote_id) "
        "AND NOT EXISTS (SELECT 1 FROM pos_sessions s "
        "  WHERE s.remote_id = r.remote_id AND s.state != 'closed') "
        "AND NOT EXISTS (SELECT 1 FROM sync_outbox o JOIN pos_sessions s ON s.id = o.session_id "
        "  WHERE s.remote_id = r.remote_id AND o.state != 'done') "
        "ORDER BY r.remote_id"
    ).fetchall()
    return [r[0] for r in rows]
