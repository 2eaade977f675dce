"""The Odoo POS session the hub's sessions are booked into, opened and closed to mirror them.

Odoo allows one open session per POS configuration, while a hub may run a
session per till. So every hub session that has something to push is booked
into the configuration's one open Odoo session (opened on first need, or
found open after a restart), and that Odoo session is closed once every hub
session booked into it is closed and all of their orders are at Odoo.

When Odoo refuses an order because its session was closed meanwhile (18+:
"No open session available"), ``reopen`` books the hub sessions into a fresh
one. 16 and 17 put such orders in a rescue session by themselves, and 18+
into another open session of the configuration: the pusher sees the order
come back in a session it did not send (``rehomed``), which is reported in
the status, and the hub sessions are booked into a fresh session from then on.

Closing is checked, not assumed: the counted cash goes to Odoo first when
the configuration counts cash, and a session Odoo did not close (a refused
cash difference, the "Force Close Session" wizard) stays open at the hub's
side, is retried later, and is shown as the agent's last error.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from cloud_sync import idmap
from cloud_sync.errors import Rejected
from cloud_sync.odoo import OdooClient
from hub import sync_status
from hub.clock import now_iso
from hub.db.store import Store
from hub.logs import get_logger
from hub.orders.money import Money

log = get_logger("edgehub.sync")

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
            log.info("odoo_session_in_use", remote_session=remote)
            self._current = remote
        return self._current

    async def close_finished(self) -> list[int]:
        """Close the Odoo sessions whose hub sessions are closed and fully pushed.

        Call only when the log is tailed to its head, so that every order of
        those sessions is in the outbox. A refusal (Odoo still holds a draft)
        is logged and tried again on a later call.
        """
        closed: list[int] = []
        money = Money(self.store.settings.rules.currency_digits)
        for remote in await self.store.read(_closable):
            delta = money.from_minor(await self.store.read(_cash_delta, remote))
            try:
                await self.client.close_session(remote, delta)
            except Rejected as exc:
                log.warning("odoo_session_not_closed", remote_session=remote, error=exc)
                message = f"Odoo did not close POS session {remote}: {exc.message}"
                await self.store.write(_note_error, message)
                continue
            await self.store.write(_remember_closed, remote)
            log.info("odoo_session_closed", remote_session=remote)
            if self._current == remote:
                self._current = None
            closed.append(remote)
        return closed

    async def rehomed(self, moved: dict[int, set[int]], hub_sessions: set[int]) -> None:
        """Odoo put orders in other sessions than the one sent (``moved``: Odoo session →
        order ids): the one booked was closed at head office. Say so, and book anew."""
        for session, orders in sorted(moved.items()):
            log.warning("odoo_orders_rehomed", remote_session=session, orders=sorted(orders))
            message = (
                f"Odoo put {len(orders)} order(s) in POS session {session} (a rescue session "
                "on 16/17) because the session they were sent to was closed at head office; "
                "check and close it there"
            )
            await self.store.write(_note_error, message)
        if hub_sessions:
            await self.reopen(hub_sessions)


def _note_error(db: sqlite_utils.Database, message: str) -> None:
    sync_status.record_agent(db, last_error=message[:2000], last_error_at=now_iso())


def _cash_delta(db: sqlite_utils.Database, remote: int) -> int:
    """Counted minus opening cash over the hub sessions booked into ``remote`` (minor units)."""
    row = db.execute(
        "SELECT COALESCE(SUM(COALESCE(closing_cash, opening_cash) - opening_cash), 0) "
        "FROM pos_sessions WHERE remote_id = ?",
        (remote,),
    ).fetchone()
    return int(row[0])


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
