"""The bridge's moving parts: tail the log, send jobs, retry, hear devices, keep the board.

Four loops share one MQTT link and one SQLite ``Store`` (its single writer
thread serialises their transactions):

* ``tail``: when the log grows, ``intake.take`` turns new events into jobs
  (jobs and cursor in one transaction), then the jobs are published.
* ``retry``: sends again the jobs whose ``next_attempt_at`` has come.
* ``inbox``: applies acks, statuses and bumps in batches (``inbox.apply``).
* ``board``: publishes the retained list of ready orders when it changed.

A publish is done at its PUBACK; only then is a job marked ``sent``. After every
(re)connection the open jobs not yet sent on it are made due at once: the broker keeps nothing
for us across its own restart, and devices drop what they already printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import sqlite_utils

from firmware_bridge import inbox, intake, job_store, presence
from firmware_bridge.inbox import Inbound
from firmware_bridge.job_store import Outgoing, RetryPolicy
from firmware_bridge.logwatch import LogWatch
from firmware_bridge.messages import Bump, Rejected
from firmware_bridge.mqtt import MqttError, MqttLink
from hub import events
from hub.clock import now_iso
from hub.daemon import Backoff, restarting
from hub.db.store import Store
from hub.logs import get_logger
from hub.mqtt_topics import Topics
from hub.orders import board
from hub.orders.commands import OrderRules
from hub.orders.money import Money
from hub.settings import Settings

log = get_logger("edgehub.bridge")

INBOX_LIMIT = 10_000
"""Messages waiting to be applied; past this a flood is dropped, not buffered without end."""
BOARD_RETRY_SECONDS = 1.0
LOOP_RESTART_SECONDS = 1.0


class Dispatcher:
    """Owns the bridge's loops; ``run()`` until cancelled."""

    def __init__(self, settings: Settings, store: Store, link: MqttLink) -> None:
        money = Money(settings.rules.currency_digits)
        self.rules = OrderRules(
            money=money, store=settings.store.code, max_discount_pct=settings.rules.max_discount_pct
        )
        self.policy = RetryPolicy(
            settings.kitchen.ack_timeout_seconds, settings.kitchen.retry_max_seconds
        )
        self.topics = Topics(settings.store.code)
        self.store = store
        self.link = link
        self.watch = LogWatch(settings.store.db)
        self._inbox: list[Inbound] = []
        self._inbox_ready = asyncio.Event()
        self._retry_wake = asyncio.Event()
        self._board_dirty = asyncio.Event()
        self._board: list[int] | None = None
        self._heard: set[str] = set()  # devices that spoke on the current connection
        self.presence_grace = settings.kitchen.presence_grace(settings.mqtt.keepalive_seconds)
        self.rescan = settings.timing.kitchen_rescan_seconds
        self._tasks: set[asyncio.Task[Any]] = set()
        for topic_filter in (self.topics.all_acks, self.topics.all_statuses, self.topics.all_bumps):
            link.subscribe(topic_filter, self._on_message)
        link.on_connect(self._on_connect)

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._loop("tail", self._tail))
                group.create_task(self._loop("retry", self._retry))
                group.create_task(self._loop("inbox", self._drain_inbox))
                group.create_task(self._loop("board", self._publish_board))
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self.watch.close()

    async def _loop(self, name: str, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` again and again; an error is logged with its traceback and it goes on."""
        # A second between a failure and the next run, always: the loops work on this
        # hub's own SQLite and broker, so there is no herd to spread, only a spin to avoid.
        backoff = Backoff(LOOP_RESTART_SECONDS, LOOP_RESTART_SECONDS, jitter=False)
        await restarting(step, backoff=backoff, log=log, event="bridge_loop_failed", loop=name)

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        """A short task owned by the dispatcher: cancelled on stop, its failure logged."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._reap)

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # What it left undone is picked up again: jobs stay due in SQLite.
            log.error("bridge_task_failed", exc_info=exc)

    # --- the log -> jobs -----------------------------------------------------------------

    async def _tail(self) -> None:
        cursor = await self.store.read(events.get_cursor, intake.CONSUMER)
        while True:
            if await self.store.read(events.head) > cursor:
                connection = self.link.connects  # before the claim: see _send
                taken = await self.store.write(intake.take, self.policy)
                cursor = max(cursor, taken.seq)
                if taken.outgoing:
                    self._spawn(self._send(taken.outgoing, connection))
                if taken.board_changed:
                    self._board_dirty.set()
                if taken.more:
                    continue
            await self.watch.changed()

    async def _retry(self) -> None:
        while True:
            due = await self.store.read(job_store.next_due)
            now = time.time()
            if due is not None and due <= now and self.link.connected:
                connection = self.link.connects  # before the claim: see _send
                outgoing = await self.store.write(job_store.claim_due, self.policy, now)
                if outgoing:
                    self._spawn(self._send(outgoing, connection))
                continue
            wait = self.rescan
            if due is not None and self.link.connected:
                wait = min(max(due - now, 0.005), self.rescan)
            self._retry_wake.clear()
            # asyncio.timeout, not wait_for: 3.11's wait_for drops a cancellation (SIGTERM)
            # that comes in the turn after the wake-up, and this loop would never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._retry_wake.wait()

    async def _send(self, outgoing: list[Outgoing], connection: int) -> None:
        """Publish jobs claimed while the link was on ``connection``, and only on it.

        A claim stamps the job's ``updated_at`` in the writer thread, and the link
        may come back (``_on_connect`` stamps ``connected_at``) before the claim
        has committed. Such a job was last touched before the new connection, so
        ``reschedule_all`` makes it due again; published here as well, it would
        go out twice, the second copy plain if claimed before the first one's
        PUBACK. So a claim is published only on the connection it was made
        under; otherwise it stays due, and the new connection's re-send (or the
        backoff) sends it, once.
        """
        if not self.link.connected or self.link.connects != connection:
            # They stay due; the jobs not already sent on the new connection are
            # sent again once it is up.
            return
        results = await asyncio.gather(
            *(
                self.link.publish(self.topics.jobs(o.station), o.payload, connection=connection)
                for o in outgoing
            ),
            return_exceptions=True,
        )
        sent = [o.job_id for o, result in zip(outgoing, results, strict=True) if result is None]
        failed = len(outgoing) - len(sent)
        if failed:
            first = next(r for r in results if r is not None)
            log.warning("kitchen_send_failed", jobs=failed, error=str(first))
        if sent:
            await self.store.write(self._mark_sent, sent)

    def _mark_sent(self, db: sqlite_utils.Database, job_ids: list[str]) -> None:
        job_store.refresh_kitchen_status(db, self.rules, job_store.mark_sent(db, job_ids))

    # --- devices -> hub --------------------------------------------------------------------

    def _on_message(self, topic: str, payload: bytes) -> None:
        try:
            message = inbox.parse(self.topics, topic, payload)
        except Rejected as exc:
            log.warning("mqtt_message_rejected", topic=topic, bytes=len(payload), reason=str(exc))
            return
        if message is None:
            return
        if not isinstance(message.body, Bump):
            self._heard.add(message.name)
        if len(self._inbox) >= INBOX_LIMIT:
            log.error("inbox_full", topic=topic)
            return
        self._inbox.append(message)
        self._inbox_ready.set()

    async def _drain_inbox(self) -> None:
        await self._inbox_ready.wait()
        self._inbox_ready.clear()
        batch, self._inbox = self._inbox, []
        if not batch:
            return
        applied = await self.store.write(
            inbox.apply, self.rules, self.policy, self.topics, batch, time.time()
        )
        for topic, payload in applied.replies:
            self._spawn(self._publish_quietly(topic, payload))
        if applied.reschedule:
            self._retry_wake.set()

    async def _publish_quietly(self, topic: str, payload: bytes, retain: bool = False) -> bool:
        try:
            await self.link.publish(topic, payload, retain=retain)
        except MqttError as exc:
            log.warning("publish_failed", topic=topic, error=str(exc))
            return False
        return True

    def _on_connect(self) -> None:
        # Cleared here, on the loop, before any message of this connection is delivered.
        self._heard = set()
        self._spawn(self._after_connect(self.link.connects, now_iso()))

    async def _after_connect(self, connection: int, connected_at: str) -> None:
        resent = await self.store.write(job_store.reschedule_all, time.time(), connected_at)
        if resent:
            log.info("kitchen_resend_after_connect", jobs=resent)
        self._retry_wake.set()
        self._board = None  # a restarted broker has lost the retained board
        self._board_dirty.set()
        await asyncio.sleep(self.presence_grace)
        if not self.link.connected or self.link.connects != connection:
            return  # a newer connection has its own grace period
        if await self.store.write(self._expire_unheard, set(self._heard)):
            self._retry_wake.set()

    def _expire_unheard(self, db: sqlite_utils.Database, heard: set[str]) -> int:
        changes = presence.expire_unheard(db, heard)
        for change in changes:
            log.warning("device_presumed_offline", device=change.device)
            job_store.reschedule_device(db, time.time(), change.device)
        return len(changes)

    # --- the ready board -------------------------------------------------------------------

    async def _publish_board(self) -> None:
        await self._board_dirty.wait()
        self._board_dirty.clear()
        numbers = await self.store.read(board.ready_numbers)
        if numbers == self._board or not self.link.connected:
            return
        payload = json.dumps({"ready": numbers, "updated_at": now_iso()}).encode()
        if await self._publish_quietly(self.topics.ready_board, payload, retain=True):
            self._board = numbers
        else:
            await asyncio.sleep(BOARD_RETRY_SECONDS)
            self._board_dirty.set()
