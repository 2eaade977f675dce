"""The sync agent: tail the log → batch → push → record → advance, and pull the catalogue.

One loop, one turn at a time (``step``):

1. **tail**: events after the ``sync`` cursor become outbox rows, in the
   transaction that moves the cursor (``outbox.tail``); while a batch is
   at Odoo the tail runs beside it, so its writes cost no wall time;
2. **pull** the catalogue when due (``pull.Puller``), so payloads can map ids;
3. **batch**: the oldest pending rows, in order;
4. **push** them (``push.Pusher``), marked ``in_flight`` first;
5. **record** each row's fate and the order's sync columns in one transaction.

Odoo being away is the normal case, not an exception: a ``Retryable``
failure stops talking to Odoo for a jittered, doubling delay (``Backoff``)
while the tail goes on queueing, so nothing is lost and order is kept.
``AuthFailed`` (or a configuration Odoo refuses) waits the longest delay
between tries: only a person can fix it.

A flaky link is not Odoo being away. The client retries single calls where
they failed; a turn that fails anyway keeps what it got (the version, the
login, the POS configuration, each model pulled) and the next turn goes on
from there; any progress (an order Odoo took, a model pulled) resets the
backoff, so a link that fails one call in three drains at a steady pace. A
pull that fails once the catalogue is on the hub does not hold back the
orders; it is tried again on its own schedule.

Progress and failures land in the ``sync_agent`` row that the hub's status
surfaces read, and a ``sync.status`` event goes out when the picture changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from cloud_sync import batch as batches
from cloud_sync import outbox
from cloud_sync.errors import Ambiguous, AuthFailed, Rejected, Retryable, SyncError, WorkerLimit
from cloud_sync.odoo import OdooClient
from cloud_sync.pull import MODELS, Puller
from cloud_sync.push import Pusher
from cloud_sync.remote_sessions import RemoteSessions
from hub import events, sync_outbox, sync_status
from hub.backoff import Backoff
from hub.clock import iso, now_iso
from hub.db.store import Store
from hub.logs import get_logger
from hub.orders.money import Money
from hub.settings import Settings

log = get_logger("edgehub.sync")

HEARTBEAT_SECONDS = 5.0
CLOSE_SESSIONS_EVERY = 30.0
RECONCILE_EVERY = 12  # pulls: a full id reconciliation about hourly at the default interval
PRUNE_EVERY = 3600.0
KEEP_DONE = timedelta(days=30)
ANNOUNCE_PENDING_EVERY = 5.0  # a change of the pending count alone is announced at most this often


@dataclass(frozen=True, slots=True)
class Step:
    """What one turn did: whether it made progress, and whether nothing is left to push."""

    progressed: bool
    idle: bool


class Agent:
    """Syncs one hub database with one Odoo; ``run`` until stopped, or ``step`` by step."""

    def __init__(self, settings: Settings, store: Store, client: OdooClient) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self.money = Money(settings.rules.currency_digits)
        self.backoff = Backoff(0.5, settings.sync.backoff_max_seconds)
        self.error: SyncError | None = None  # what stopped the last attempt, until a success
        self._pusher: Pusher | None = None
        self._puller: Puller | None = None
        self._sessions: RemoteSessions | None = None
        self._user_id: int | None = None  # what connect() learned, kept across failed turns
        self._config: tuple[int, int | None] | None = None
        self._catalogue_ready = False  # every model pulled once: orders can map their ids
        self.pull_refused: Rejected | None = None  # Odoo refused the last catalogue pull
        interval = settings.sync.pull_interval_seconds
        self._pull_backoff = Backoff(min(0.5, interval), interval)
        self.settled = 0  # rows Odoo took or refused, ever: progress the backoff counts
        self.size = batches.BatchSize(settings.sync.batch_size)
        self._resume_at = 0.0  # monotonic time before which Odoo is left alone
        self._pull_at = 0.0
        self.pulls = 0  # catalogue pulls done: every RECONCILE_EVERY-th also reconciles ids
        self._close_at = 0.0
        self._prune_at = 0.0
        self._beat_at = 0.0
        self._announced: tuple[Any, ...] | None = None
        self._announced_pending: tuple[int, float] = (-1, 0.0)
        self._state = "starting"
        self._ahead = batches.ReadAhead(store, self.money)

    @property
    def resume_at(self) -> float:
        """The ``time.monotonic()`` before which the agent leaves Odoo alone (its backoff)."""
        return self._resume_at

    # -- the loop -------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Turn until ``stop`` is set; never raises for anything Odoo or the network does."""
        await self._note(
            state="starting",
            pid=os.getpid(),
            started_at=now_iso(),
            remote_url=self.client.url,
            heartbeat_at=now_iso(),
        )
        while not stop.is_set():
            try:
                turn = await self.step()
            except Exception as exc:
                # A bug, or the database refusing: keep the process, log it, slow down.
                log.exception("sync_step_failed")
                turn = Step(False, True)
                self._resume_at = time.monotonic() + self.backoff.delay()
                with contextlib.suppress(Exception):
                    await self._note(last_error=f"internal error: {exc!r}", last_error_at=now_iso())
            if time.monotonic() >= self._beat_at:
                await self._note(heartbeat_at=now_iso())
            if not turn.progressed:
                # How soon a new order is noticed when there is nothing else to do.
                wait = poll = self.settings.sync.poll_seconds
                if turn.idle and self._resume_at > time.monotonic():
                    wait = min(poll, self._resume_at - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(wait, 0.01)):  # not wait_for: see pyproject
                        await stop.wait()
        self._ahead.discard()
        self._state = "stopped"
        await self._note(state="stopped", heartbeat_at=now_iso())

    async def step(self) -> Step:
        """One turn: tail; unless backing off, connect, pull if due and push one batch.

        With a batch to push, the tail runs beside it: its writes then overlap
        the wait for Odoo instead of adding to it.
        """
        now = time.monotonic()
        if now < self._resume_at:
            tailed = await self._tailed(self._tail())
            return Step(tailed.consumed > 0, True)
        items: list[outbox.Item] = []
        tailing: asyncio.Task[outbox.Tail] | None = None
        progress = self._progress()
        try:
            if self._pusher is None:
                await self.connect()
            if now >= self._pull_at:
                await self._pull_when_due()
            items = await self.store.read(outbox.next_batch, self.size.current)
            if items:
                tailing = asyncio.create_task(self._tail())
                await self._push(items)
            else:
                tailed = await self._tailed(self._tail())
                if tailed.caught_up:
                    await self._housekeeping(now)
        except (AuthFailed, Retryable, Rejected) as exc:
            tailed = await self._tailed(tailing or self._tail())
            if self._progress() != progress:
                self.backoff.reset()  # the link is bad, not Odoo away: keep the pace up
            await self._failed(exc)
            return Step(tailed.consumed > 0, True)
        except BaseException:
            if tailing is not None:
                tailing.cancel()
            raise
        if tailing is not None:
            tailed = await self._tailed(tailing)
        self.backoff.reset()
        if self.error is not None or self._state != "running":
            self.error = None
            self._state = "running"
            await self._note(state="running", reachable=1)
        return Step(bool(items) or tailed.consumed > 0, not items and tailed.caught_up)

    async def _tailed(self, tail: Awaitable[outbox.Tail]) -> outbox.Tail:
        tailed = await tail
        if tailed.session_closed:
            self._close_at = 0.0  # look for an Odoo session to close as soon as all is pushed
        return tailed

    # -- the parts --------------------------------------------------------------------

    def _progress(self) -> tuple[int, int]:
        models = self._puller.models_pulled if self._puller is not None else 0
        return self.settled, models

    async def connect(self) -> None:
        """Find Odoo's version, log in, read the POS configuration: what every push needs.

        Each answer is kept as it comes: after a failure the next try asks only
        what is still missing.
        """
        version = self.client.version or await self.client.detect_version()
        if self._user_id is None:
            self._user_id = await self.client.login()
        if self._config is None:
            self._config = await self._pos_config()
        user_id = self._user_id
        config_id, pricelist_id = self._config
        self._sessions = RemoteSessions(self.client, self.store, config_id)
        self._puller = Puller(self.client, self.store, self.money, version, config_id=config_id)
        self._pusher = Pusher(
            self.client,
            self._sessions,
            version=version,
            user_id=user_id,
            pricelist_id=pricelist_id,
            timeout=self.settings.sync.timeout_seconds,
        )
        log.info("odoo_connected", url=self.client.url, version=version, config=config_id)
        await self._note(remote_version=version, reachable=1, last_success_at=now_iso())

    async def _pos_config(self) -> tuple[int, int | None]:
        configured = self.settings.odoo.pos_config_id
        domain = [("id", "=", configured)] if configured else []
        rows = await self.client.search_read(
            "pos.config", domain, ["id", "pricelist_id"], limit=1, order="id"
        )
        if not rows:
            which = f"pos.config {configured}" if configured else "any pos.config"
            raise Rejected(f"Odoo has no {which} for this store (EDGEHUB_ODOO_POS_CONFIG_ID)")
        pricelist = rows[0].get("pricelist_id")
        pricelist_id = pricelist[0] if isinstance(pricelist, list) else (pricelist or None)
        return int(rows[0]["id"]), pricelist_id

    async def pull(self, *, reconcile: bool | None = None) -> dict[str, list[int]]:
        """Pull the catalogue now; every ``RECONCILE_EVERY``-th pull also looks for deletions."""
        assert self._puller is not None, "connect() first"
        if reconcile is None:
            reconcile = self.pulls % RECONCILE_EVERY == 0
        self._ahead.discard()  # its id map may be about to change
        changed = await self._puller.pull(reconcile=reconcile)
        self.pulls += 1
        self._pull_at = time.monotonic() + self.settings.sync.pull_interval_seconds
        await self.store.write(self._pulled, bool(changed))
        return changed

    async def _pull_when_due(self) -> None:
        try:
            await self.pull()
        except Rejected as exc:
            # This Odoo refuses a catalogue read (a model or field it lacks): the
            # orders can still go; try the pull again at the next interval.
            self.pull_refused = exc
            self._pull_at = time.monotonic() + self.settings.sync.pull_interval_seconds
            log.error("catalogue_pull_refused", error=exc.message)
            await self._note(last_error=exc.message[:2000], last_error_at=now_iso())
        except Retryable as exc:
            if not await self._has_catalogue():
                raise  # orders would only park as unmapped: wait for the first pull
            # The orders need only the catalogue already here: let them go, and
            # pull again on a backoff of its own.
            delay = self._pull_backoff.delay(exc.retry_after)
            self._pull_at = time.monotonic() + delay
            log.warning("catalogue_pull_failed", retry_in=round(delay, 1), error=exc.message)
            await self._note(last_error=exc.message[:2000], last_error_at=now_iso())
        else:
            self.pull_refused = None
            self._pull_backoff.reset()

    async def _has_catalogue(self) -> bool:
        if not self._catalogue_ready:
            self._catalogue_ready = await self.store.read(_pulled_every_model)
        return self._catalogue_ready

    def _pulled(self, db: sqlite_utils.Database, changed: bool) -> None:
        now = now_iso()
        sync_status.record_agent(db, last_pull_at=now, last_success_at=now, reachable=1)
        if changed:
            # Orders parked for want of an Odoo id may be sendable now.
            sync_outbox.retry_all(db, error_kind="unmapped")

    async def catch_up_log(self) -> int:
        """Tail the log to its head now; returns the rows enqueued."""
        enqueued = 0
        while True:
            tailed = await self._tail()
            enqueued += tailed.enqueued
            if tailed.caught_up:
                return enqueued

    async def _tail(self) -> outbox.Tail:
        behind = await self.store.read(_unread)
        if not behind:
            return outbox.Tail(0, 0, True)
        return await self.store.write(outbox.tail)

    async def _push(self, items: list[outbox.Item]) -> None:
        assert self._pusher is not None
        batch = await self._ahead.take(items)
        if batch is None:
            batch = await self.store.read(batches.load, self.money, items, self._pusher.build)
        self._ahead.start(after=items[-1].id, size=self.size.current, build=self._pusher.build)
        outcome = outbox.Outcome.empty()
        reopened, died = self._pusher.reopened, self._pusher.died
        try:
            await self._pusher.push(batch, outcome, self._mark_sent)
        except (Ambiguous, WorkerLimit) as exc:
            self._ahead.discard()  # the same rows come again next time, in order
            if isinstance(exc, WorkerLimit) or self._pusher.died != died:
                # Odoo stopped the worker for time (or no answer came and Odoo
                # holds none of it: killed?). The same batch would die again.
                self.size.died()
                log.warning("batch_died", size=len(items), next=self.size.current)
            raise
        except BaseException:
            self._ahead.discard()  # the same rows come again next time, in order
            raise
        else:
            self.size.succeeded()
        finally:
            if outcome.done or outcome.parked or outcome.settled:
                await self.store.write(self._record, outcome)
                self.settled += len(outcome.done) + len(outcome.parked)
        if self._pusher.reopened != reopened:
            self._ahead.discard()  # built for the Odoo session that was just replaced

    async def _mark_sent(self, ids: list[int]) -> None:
        await self.store.write(outbox.mark_in_flight, ids)

    def _record(self, db: sqlite_utils.Database, outcome: outbox.Outcome) -> None:
        outbox.record(db, outcome)
        if outcome.done:
            sync_status.record_agent(db, last_success_at=now_iso(), reachable=1)
        self._announce(db)

    async def _housekeeping(self, now: float) -> None:
        """With nothing to push: close finished Odoo sessions, forget old done rows."""
        if now >= self._close_at and self._sessions is not None:
            self._close_at = now + CLOSE_SESSIONS_EVERY
            await self._sessions.close_finished()
        if now >= self._prune_at:
            self._prune_at = now + PRUNE_EVERY
            before = iso(datetime.now(UTC) - KEEP_DONE)
            await self.store.write(sync_outbox.prune, before)

    async def _failed(self, exc: SyncError) -> None:
        """Leave Odoo alone for a while; how long depends on whether waiting can help."""
        if isinstance(exc, AuthFailed):
            state, slow = "auth_failed", True
        elif isinstance(exc, Rejected):
            # Odoo refused the set-up itself (no such POS config, a model it lacks):
            # a configuration problem, retried as slowly as a wrong key.
            state, slow = "misconfigured", True
        else:
            state, slow = "offline", False
        self.error = exc
        self._state = state
        if slow:
            delay = self.settings.sync.backoff_max_seconds
            # Log in again, and re-read the configuration, next time.
            self._pusher, self._user_id, self._config = None, None, None
        else:
            delay = self.backoff.delay(getattr(exc, "retry_after", None))
        self._resume_at = time.monotonic() + delay
        log.warning("odoo_failed", state=state, retry_in=round(delay, 1), error=exc.message)
        # Unreachable: no answer at all, or only a gateway's saying Odoo is not there.
        unreachable = isinstance(exc, Retryable) and exc.status in (None, 502, 503, 504)
        await self._note(
            state=state,
            reachable=int(not unreachable),
            last_error=exc.message[:2000],
            last_error_at=now_iso(),
        )

    # -- status --------------------------------------------------------------------------

    async def _note(self, **fields: Any) -> None:
        await self.store.write(self._note_in, fields)

    def _note_in(self, db: sqlite_utils.Database, fields: dict[str, Any]) -> None:
        sync_status.record_agent(db, **fields)
        self._beat_at = time.monotonic() + HEARTBEAT_SECONDS
        self._announce(db)

    def _announce(self, db: sqlite_utils.Database) -> None:
        """Append ``sync.status`` when the picture changed (runs in a write transaction)."""
        current = sync_status.read(db, self.settings)
        key = (current["state"], current["remote"]["reachable"], current["failed"])
        pending, at = self._announced_pending
        now = time.monotonic()
        pending_moved = current["pending"] != pending and (
            now - at >= ANNOUNCE_PENDING_EVERY or (current["pending"] == 0) != (pending == 0)
        )
        if key == self._announced and not pending_moved:
            return
        self._announced = key
        self._announced_pending = (current["pending"], now)
        events.append(db, "sync.status", sync_status.summary(current), ["store"])


def _unread(db: sqlite_utils.Database) -> bool:
    return events.head(db) > events.get_cursor(db, sync_outbox.CONSUMER)


def _pulled_every_model(db: sqlite_utils.Database) -> bool:
    names = [model.name for model in MODELS]
    marks = ",".join("?" * len(names))
    (count,) = db.execute(
        f"SELECT COUNT(*) FROM sync_watermarks WHERE model IN ({marks})", names
    ).fetchone()
    return bool(count == len(names))
