"""Pushing one batch to Odoo and learning, for every row, what became of it.

Odoo runs a push in one transaction, so one bad order fails the batch. A
``Rejected`` batch is split in halves until the bad orders stand alone, and
only those are parked: one poison order costs about 2·log2(batch) calls,
never the rest of the queue.

An ``Ambiguous`` failure (no answer, a dropped connection, a gateway 502)
may hide a commit. The rows were marked ``in_flight`` before sending, so
whatever happens next, Odoo is asked with ``find_orders`` which of them it
holds before any is sent again; a resend is harmless anyway (uuid or
reference dedupe), the question makes it unnecessary.

Any other ``Retryable`` failure, or ``AuthFailed``, ends the batch: what was
learned so far is kept in the ``Outcome``, the rest stays pending in order,
and the agent backs off.

An order Odoo answers for is not yet an order Odoo took as paid. Each
version stores a refused payment differently (``action_pos_order_paid``
failing: 16/17 keep a ``draft``, 18 keeps whatever ``state`` the payload
claimed, so payloads claim none and it keeps a ``draft`` too; 19 fails the
batch), and 18+ recompute the totals from the lines. So every answered order
is judged (``verdict``) on what Odoo holds, and parked with the reason unless
it is final, paid as Odoo counts it, and at the hub's total.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cloud_sync import batch as batches
from cloud_sync import documents
from cloud_sync.errors import Ambiguous, AuthFailed, Rejected, Retryable, Unmapped
from cloud_sync.idmap import IdMap
from cloud_sync.odoo import OdooClient, RemoteOrder
from cloud_sync.outbox import Item, Outcome
from cloud_sync.payloads import order_payload, order_reference
from cloud_sync.remote_sessions import NO_OPEN_SESSION, RemoteSessions
from hub.logs import get_logger

log = get_logger("edgehub.sync")

SECONDS_PER_ORDER = 0.05  # added to the call timeout per order: a big push takes Odoo longer
DRAFT_MESSAGE = (
    "Odoo holds this order in draft: it stored it but did not accept it as paid "
    "(its payments do not cover its total at Odoo); check it at head office, then retry"
)
UNPAID_MESSAGE = (
    "Odoo holds this order as paid but its payments do not match its total there (its books "
    "are wrong); check it at head office"
)
FINAL_STATES = ("paid", "done", "invoiced")
TOLERANCE = Decimal("0.005")


def verdict(remote: RemoteOrder, document: Mapping[str, Any]) -> tuple[str, str] | None:
    """None if Odoo holds ``document`` as a paid order with the hub's total; else why not.

    ``(error_kind, message)``: ``draft`` (16-18: payments refused),
    ``unpaid`` (final, but paid and total differ at Odoo: 18 keeps a claimed
    ``paid`` even when ``action_pos_order_paid`` refused it; the agent claims
    none, another client may have), ``mismatch`` (18+ recomputed a total the
    hub did not charge: a tax or rounding the hub does not reproduce).
    """
    amounts = f"Odoo: total {remote.amount_total}, paid {remote.amount_paid}"
    if remote.state == "draft":
        return "draft", f"{DRAFT_MESSAGE} ({amounts})"
    if remote.state not in FINAL_STATES:
        return "rejected", f"Odoo holds this order in state {remote.state!r} ({amounts})"
    if abs(remote.amount_paid - remote.amount_total) > TOLERANCE:
        return "unpaid", f"{UNPAID_MESSAGE} ({amounts})"
    hub_total = Decimal(str(document["amount_total"]))
    if abs(remote.amount_total - hub_total) > TOLERANCE:
        return "mismatch", (
            f"Odoo computed a total of {remote.amount_total} where the hub charged {hub_total} "
            "(a tax or rounding the hub does not reproduce); check it at head office"
        )
    return None


@dataclass
class _Entry:
    item: Item
    document: dict[str, Any]
    order_lines: dict[int, int] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)


class Pusher:
    """Turns outbox rows into ``push_orders`` calls for one connected Odoo."""

    def __init__(
        self,
        client: OdooClient,
        sessions: RemoteSessions,
        *,
        version: int,
        user_id: int,
        pricelist_id: int | None,
        timeout: float,
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.version = version
        self.user_id = user_id
        self.pricelist_id = pricelist_id
        self.timeout = timeout
        self.reopened = 0  # times the Odoo session was replaced: payloads built before are stale
        self.died = 0  # pushes that got no answer and left nothing at Odoo
        self._ids = IdMap({}, {}, {}, {})
        # Odoo session → orders Odoo put there instead of the session they were sent to.
        self._moved: dict[int, set[int]] = {}
        self._moved_hub_sessions: set[int] = set()

    async def push(
        self,
        batch: batches.Batch,
        outcome: Outcome,
        mark_sent: Callable[[list[int]], Awaitable[None]],
    ) -> None:
        """Push ``batch``, filling ``outcome`` as answers come.

        ``mark_sent`` persists ``in_flight`` before the first byte leaves.
        Raises the ``Retryable`` or ``AuthFailed`` that ended the batch early;
        ``outcome`` then holds what was learned before it.
        """
        self._ids = batch.ids
        unbooked = {i.session_id for i in batch.items} - set(batch.ids.sessions)
        booked = await self.sessions.book(unbooked)
        self._ids = self._ids.with_sessions(booked)

        doubtful = [_Entry(i, batch.documents[i.id]) for i in batch.items if i.in_flight]
        if doubtful:
            # Those Odoo holds are done; the others are sent below like the rest.
            await self._confirm(doubtful, outcome)

        entries: list[_Entry] = []
        for item in batch.items:
            if item.id in outcome.done or item.id in outcome.parked:
                continue
            entry = _Entry(item, batch.documents[item.id])
            if item.kind == "refund" and item.id in batch.sale_ids:
                entry.order_lines = await self._sale_lines(entry, batch.sale_ids[item.id])
            prebuilt = batch.payloads.get(item.id)
            if prebuilt is not None:  # built with this batch's ids, and its session was booked
                entry.payload = prebuilt
                entries.append(entry)
                continue
            try:
                self._build(entry)
            except Unmapped as exc:
                outcome.parked[item.id] = ("unmapped", f"{exc.message}: pull the catalogue")
                continue
            entries.append(entry)
        if entries:
            await mark_sent([e.item.id for e in entries])
            try:
                await self._send(entries, outcome, may_reopen=True)
            finally:
                await self._report_moved()

    async def _report_moved(self) -> None:
        if not self._moved:
            return
        moved, hub_sessions = self._moved, self._moved_hub_sessions
        self._moved, self._moved_hub_sessions = {}, set()
        await self.sessions.rehomed(moved, hub_sessions)
        self.reopened += 1

    def _build(self, entry: _Entry) -> None:
        entry.payload = self.build(entry.document, self._ids, entry.order_lines)

    def build(
        self,
        document: dict[str, Any],
        ids: IdMap,
        order_lines: dict[int, int] | None = None,
    ) -> dict[str, Any]:
        """The payload of one hub-shaped order for this Odoo (pure: safe on any thread)."""
        refs = ids.refs(
            user_id=self.user_id, pricelist_id=self.pricelist_id, order_lines=order_lines
        )
        return order_payload(document, refs, self.version)

    async def _sale_lines(self, entry: _Entry, sale_id: int) -> dict[int, int]:
        rows = await self.client.search_read(
            "pos.order.line", [("order_id", "=", sale_id)], ["id"], order="id"
        )
        return documents.refunded_lines(entry.document, [int(r["id"]) for r in rows])

    async def _send(self, entries: list[_Entry], outcome: Outcome, *, may_reopen: bool) -> None:
        items = [e.item for e in entries]
        by_uuid = {e.item.uuid: e for e in entries}
        try:
            result = await self.client.push_orders(
                [e.payload for e in entries],
                time_limit=self.timeout + SECONDS_PER_ORDER * len(entries),
            )
        except Ambiguous:
            missing = await self._confirm(entries, outcome)
            if missing:
                if len(missing) == len(items):
                    self.died += 1  # no answer, nothing committed: a worker killed for time?
                raise  # unknown fate: back off, then ask again before resending
            return
        except Rejected as exc:
            await self._rejected(entries, outcome, exc, may_reopen=may_reopen)
            return
        except (Retryable, AuthFailed):
            # Not Ambiguous (caught above): Odoo committed nothing.
            outcome.settled.update(i.id for i in items)
            raise
        for key, remote_id in result.accepted.items():
            entry = by_uuid[key]
            remote = result.orders.get(key)
            if remote is None:
                outcome.done[entry.item.id] = remote_id
            else:
                self._judge(entry, remote, outcome)
        if result.skipped:
            # Already final at Odoo (a resend): learn their ids.
            skipped = [by_uuid[k] for k in result.skipped]
            for item in await self._confirm(skipped, outcome):
                log.warning("odoo_skipped_but_missing", uuid=item.uuid)

    def _judge(self, entry: _Entry, remote: RemoteOrder, outcome: Outcome) -> None:
        sent_to = entry.payload.get("session_id") or entry.payload.get("data", {}).get(
            "pos_session_id"
        )
        if sent_to and remote.session_id and remote.session_id != sent_to:
            # The session sent to was closed at head office: 16/17 made a rescue
            # session, 18+ used another open one. The order is there all the same.
            self._moved.setdefault(remote.session_id, set()).add(remote.id)
            self._moved_hub_sessions.add(entry.item.session_id)
        refused = verdict(remote, entry.document)
        if refused is None:
            outcome.done[entry.item.id] = remote.id
            return
        kind, message = refused
        log.warning(
            "order_parked",
            outbox_id=entry.item.id,
            uuid=entry.item.uuid,
            remote_id=remote.id,
            kind=kind,
        )
        outcome.parked[entry.item.id] = (kind, message)

    async def _rejected(
        self, entries: list[_Entry], outcome: Outcome, exc: Rejected, *, may_reopen: bool
    ) -> None:
        if may_reopen and NO_OPEN_SESSION in exc.message:
            sessions = {e.item.session_id for e in entries}
            self._ids = self._ids.with_sessions(await self.sessions.reopen(sessions))
            self.reopened += 1
            for entry in entries:
                self._build(entry)
            await self._send(entries, outcome, may_reopen=False)
            return
        if len(entries) == 1:
            item = entries[0].item
            log.warning("order_parked", outbox_id=item.id, uuid=item.uuid, error=exc)
            outcome.parked[item.id] = ("rejected", exc.message)
            return
        middle = len(entries) // 2
        # Left half first: when a transient error stops the search, order is kept.
        await self._send(entries[:middle], outcome, may_reopen=may_reopen)
        await self._send(entries[middle:], outcome, may_reopen=may_reopen)

    async def _confirm(self, entries: Sequence[_Entry], outcome: Outcome) -> list[Item]:
        """Ask Odoo which of ``entries`` it holds; judge and record those, return the others."""
        references = {e.item.uuid: order_reference(e.document) for e in entries}
        found = {r.uuid: r for r in await self.client.find_orders(references=references)}
        missing = []
        for entry in entries:
            remote = found.get(entry.item.uuid)
            if remote is None:
                missing.append(entry.item)
            else:
                self._judge(entry, remote, outcome)
        return missing
