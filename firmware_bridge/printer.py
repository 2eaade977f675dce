"""``edgehub printer``: the MQTT firmware an ESC/POS printer does not have.

One process per printer. It logs in to the broker as the device, listens on its
station's jobs topic, and for each job addressed to it (or to no one in
particular) renders the ticket, asks the printer how it is (DLE EOT) and prints
it over ``printer_link``, then acks ``printed`` or ``failed`` with the reason.
Its status (online, paper, cover, error) is published retained whenever it
changes, polled between jobs, and its last will says ``online: false``.

A job it has already printed is acked again and not printed: the hub re-sends
until it hears an ack, and ``SeenJobs`` remembers across restarts.

Jobs are printed one at a time in arrival order. The printer is reached from a
worker thread (``printer_link`` is synchronous), and status polls and prints
never overlap: a network printer serves one connection at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_bridge import claim
from firmware_bridge.escpos import InvalidTicket, render_ticket
from firmware_bridge.mqtt import MqttError, MqttLink, Will
from firmware_bridge.printer_link import (
    PrinterError,
    PrinterLink,
    PrinterNotReady,
    PrinterOffline,
    PrinterStatus,
    open_link,
)
from firmware_bridge.seen import SeenJobs
from hub.broker_url import MqttUrl
from hub.daemon import Lifetime, supervise
from hub.db import occupancy
from hub.logs import get_logger
from hub.mqtt_topics import Topics
from hub.settings import Settings

log = get_logger("edgehub.printer")

FIRMWARE = "edgehub-printer/1"
MAX_JOB_BYTES = 256 * 1024
"""A ticket of a few hundred lines is ~30 KiB of JSON; anything bigger is not a ticket."""
QUEUE_LIMIT = 1000
UNREACHABLE = "printer unreachable"


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    """What one adapter instance is: which device, for which station, printing where."""

    device: str
    station: str
    target: str
    columns: int = 42
    status_interval: float = 10.0
    seen_path: Path | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one job went: the ack to send, and what was learnt about the printer."""

    status: str  # printed | failed
    error: str | None
    printer: dict[str, Any] | None


class PrinterAdapter:
    """Jobs from MQTT to one printer, acks and status back."""

    def __init__(self, settings: Settings, config: PrinterConfig) -> None:
        self.config = config
        self.topics = Topics(settings.store.code)
        self.claim = claim.Claim.mine(settings)
        self.printer: PrinterLink = open_link(config.target)
        seen_path = (
            config.seen_path or settings.store.db.parent / f"printer-{config.device}.seen.db"
        )
        self.seen = SeenJobs(seen_path)
        goodbye = json.dumps({"online": False, "firmware": FIRMWARE}).encode()
        self.mqtt = MqttLink(
            MqttUrl.parse(settings.mqtt.url),
            client_id=f"edgehub-printer-{settings.store.code}-{config.device}",
            keepalive=settings.mqtt.keepalive_seconds,
            will=Will(self.topics.status(config.device), goodbye),
            ca_file=settings.mqtt.ca_file,
        )
        self.mqtt.subscribe(self.topics.jobs(config.station), self._on_job)
        self.mqtt.on_connect(self._on_connect)
        self._jobs: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._printer_lock = asyncio.Lock()
        self._printer_state: dict[str, Any] = {"paper": None, "cover": None, "error": None}
        self._published: dict[str, Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def run(self, started: asyncio.Event | None = None) -> None:
        """Print until cancelled; says goodbye (``online: false``) on the way out."""
        # Ask the printer first, so the first status the hub hears already has paper and cover.
        self._printer_state = await asyncio.to_thread(self._ask_printer)
        self.mqtt.start()
        log.info(
            "printer_started",
            device=self.config.device,
            station=self.config.station,
            target=self.printer.target,
        )
        if started is not None:
            started.set()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._print_loop())
                group.create_task(self._poll_loop())
        finally:
            for task in self._tasks:
                task.cancel()
            with contextlib.suppress(MqttError, TimeoutError):
                await self._publish_status(online=False, force=True)
            await self.mqtt.stop()
            self.seen.close()

    # --- MQTT side ---------------------------------------------------------------------------

    def _on_connect(self) -> None:
        self._spawn(self._announce())

    async def _announce(self) -> None:
        """Repeat the status on every connection: the hub takes silence for absence."""
        try:
            await self._publish_status(force=True)
        except MqttError as exc:
            log.warning("status_not_sent", error=str(exc))

    def _on_job(self, topic: str, payload: bytes) -> None:
        if len(payload) > MAX_JOB_BYTES:
            log.warning("job_rejected", bytes=len(payload), reason="too big")
            return
        try:
            job = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            log.warning("job_rejected", reason="not JSON")
            return
        except RecursionError:
            log.warning("job_rejected", reason="nested too deeply")
            return
        if not isinstance(job, dict) or not isinstance(job.get("job_id"), str):
            log.warning("job_rejected", reason="no job_id")
            return
        if job.get("device") not in (None, self.config.device):
            return  # addressed to another device of the station
        try:
            self._jobs.put_nowait(job)
        except asyncio.QueueFull:
            # Dropping is safe: no ack goes out, so the hub sends the job again.
            log.warning("job_dropped_queue_full", job=job["job_id"])

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish_status(self, *, online: bool = True, force: bool = False) -> None:
        status = {"online": online, **self._printer_state, "firmware": FIRMWARE}
        if online:  # which adapter runs the device, for a second one to see (claim.py)
            status["adapter"] = self.claim.fields()
        if status == self._published and not force:
            return
        if not self.mqtt.connected:
            return
        await self.mqtt.publish(
            self.topics.status(self.config.device), json.dumps(status).encode(), retain=True
        )
        self._published = status

    async def _ack(self, job_id: str, outcome: Outcome) -> None:
        ack = {
            "job_id": job_id,
            "status": outcome.status,
            "error": outcome.error,
            "device": self.config.device,
        }
        try:
            await self.mqtt.publish(self.topics.ack(self.config.device), json.dumps(ack).encode())
        except MqttError as exc:
            # The hub will send the job again; it is marked printed, so only the ack repeats.
            log.warning("ack_not_sent", job=job_id, error=str(exc))

    # --- printer side ------------------------------------------------------------------------

    async def _print_loop(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await self._handle(job)
            except Exception:
                # No ack went out, so the hub sends the job again; the next one is served.
                log.exception("job_failed", job=job["job_id"])

    async def _handle(self, job: dict[str, Any]) -> None:
        async with self._printer_lock:
            outcome = await asyncio.to_thread(self._print_once, job)
        if outcome.printer is not None:
            self._printer_state = outcome.printer
        # Status before ack: the hub re-routes a failed job by the device's status.
        with contextlib.suppress(MqttError):
            await self._publish_status()
        await self._ack(job["job_id"], outcome)
        log.info(
            "job_done",
            job=job["job_id"],
            status=outcome.status,
            error=outcome.error,
            reprint=bool(job.get("reprint")),
        )

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.status_interval)
            async with self._printer_lock:
                state = await asyncio.to_thread(self._ask_printer)
            self._printer_state = state
            try:
                await self._publish_status()
            except MqttError as exc:
                log.warning("status_not_sent", error=str(exc))

    def _ask_printer(self) -> dict[str, Any]:
        try:
            return _state(self.printer.status())
        except PrinterOffline:
            return _unknown(UNREACHABLE)
        except PrinterError as exc:
            return _unknown(str(exc)[:200])

    def _print_once(self, job: dict[str, Any]) -> Outcome:
        """Print a job unless it was printed before; runs in a worker thread."""
        job_id: str = job["job_id"]
        seen = self.seen.get(job_id)
        if seen == "printed":
            return Outcome("printed", None, None)
        if seen == "printing":
            job = {**job, "reprint": True}
        try:
            data = render_ticket(job, columns=self.config.columns)
        except InvalidTicket as exc:
            return Outcome("failed", f"invalid ticket: {exc}", None)
        self.seen.mark(job_id, "printing")
        try:
            status = self.printer.print_job(data)
        except PrinterNotReady as exc:
            self.seen.forget(job_id)  # refused before a byte was sent
            return Outcome("failed", exc.reason, _state(exc.status))
        except PrinterOffline:
            # Left "printing": the bytes may have reached the paper in part.
            return Outcome("failed", UNREACHABLE, _unknown(UNREACHABLE))
        except PrinterError as exc:
            self.seen.forget(job_id)
            return Outcome("failed", str(exc)[:200], None)
        self.seen.mark(job_id, "printed")
        return Outcome("printed", None, _state(status))


def _state(status: PrinterStatus) -> dict[str, Any]:
    """The status fields the hub reads, from what the printer said.

    Paper and cover have fields of their own; any other reason the printer
    cannot print now (an error, offline for no stated cause) becomes ``error``.
    """
    problem = status.problem
    return {
        "paper": status.paper,
        "cover": "open" if status.cover_open else "closed",
        "error": problem if problem not in (None, "cover open", "paper out") else None,
    }


def _unknown(error: str) -> dict[str, Any]:
    """The status fields when the printer did not say how it is."""
    return {"paper": None, "cover": None, "error": error}


def run(settings: Settings, config: PrinterConfig) -> None:
    """The ``edgehub printer`` process: uvloop, signals, READY/WATCHDOG/STOPPING."""
    import uvloop

    async def work(life: Lifetime) -> None:
        url = MqttUrl.parse(settings.mqtt.url)
        await claim.check_adapter(settings, url, config.device)  # before anything is opened
        async with occupancy.held_open(settings):  # restore refuses while a printer runs
            await PrinterAdapter(settings, config).run(life.started)

    status = f"printer {config.device} for station {config.station}"
    uvloop.run(supervise(work, status=status))
