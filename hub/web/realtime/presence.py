"""Which terminals and displays are connected right now.

The registry holds, in memory only:

* this worker's WebSocket clients, counted per device id (a till reconnecting
  before its old socket is noticed dead stays one device);
* the clients of the *other* workers of this hub, folded from the
  ``device.status`` events they write to the shared log: the log already
  carries them, so no table and no Redis key is needed to share presence.
  An entry whose worker process has died is dropped at the next read, since
  a killed worker never writes its clients' "offline";
* the last ``OFFLINE_KEPT`` devices that went offline, so "the grill screen
  dropped off five minutes ago" can be seen.

Interface, for whoever adds another kind of device (MQTT printers and KDS):
``connected(device)`` / ``disconnected(device)`` on transitions,
``observe(record)`` for each event of the log, ``snapshot()`` for the list
``GET /api/v1/devices`` serves. Transitions of a device call ``announce``
with the ``device.status`` payload; writing it to the log is the caller's
business (``hub.web.realtime.announcer``).
"""

from __future__ import annotations

import json
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.clock import now_iso
from hub.events import Event

TRANSPORT = "ws"
OFFLINE_KEPT = 256
LIVENESS_TTL_SECONDS = 2.0

_KINDS = {"kitchen": "display", "device": "display"}


def kind_for_role(role: str) -> str:
    """Tills and back-office screens are terminals; kitchen screens are displays."""
    return _KINDS.get(role, "terminal")


@dataclass(frozen=True, slots=True)
class Device:
    """A WebSocket client as presence knows it: the user behind it and the client it says it is."""

    id: str
    kind: str
    user_id: int | None
    user_name: str
    role: str
    client: str


class _Local:
    __slots__ = ("connections", "device", "since")

    def __init__(self, device: Device, since: str) -> None:
        self.device = device
        self.connections = 1
        self.since = since


class Presence:
    """The devices connected to this hub, on any of its workers."""

    def __init__(self, worker_id: str, announce: Callable[[dict[str, Any]], None]) -> None:
        self.worker_id = worker_id
        self._announce = announce
        self._local: dict[str, _Local] = {}
        self._remote: dict[tuple[str, str], dict[str, Any]] = {}
        self._offline: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._liveness: dict[str, tuple[float, bool]] = {}
        # How this worker's own announcements end as stored (compact JSON, "worker" the
        # last key of ``_status``): every connect reads one back, and needs no parse to
        # be recognised. A quote inside a string value is escaped, so no other
        # worker's payload can end like this.
        self._own_ending = f'"worker":{json.dumps(worker_id)}}}'

    def connected(self, device: Device) -> None:
        entry = self._local.get(device.id)
        if entry is not None:
            entry.connections += 1
            return
        since = now_iso()
        self._local[device.id] = _Local(device, since)
        self._offline.pop(device.id, None)
        self._announce(self._status(device, online=True, at=since))

    def disconnected(self, device: Device) -> None:
        entry = self._local.get(device.id)
        if entry is None:
            return
        entry.connections -= 1
        if entry.connections > 0:
            return
        del self._local[device.id]
        status = self._status(device, online=False, at=now_iso())
        self._remember_offline(status)
        self._announce(status)

    def local_count(self) -> int:
        return len(self._local)

    def observe(self, record: Event) -> None:
        """Fold another worker's ``device.status`` event into the registry."""
        if record.event != "device.status" or record.data.endswith(self._own_ending):
            return
        try:
            data = json.loads(record.data)
        except ValueError:
            return
        if not isinstance(data, dict) or data.get("transport") != TRANSPORT:
            return
        device_id, worker = data.get("id"), data.get("worker")
        if not isinstance(device_id, str) or not isinstance(worker, str):
            return
        if worker == self.worker_id:
            return  # our own announcement: the local registry already knows
        if data.get("online") is True:
            self._remote[(worker, device_id)] = data
            self._offline.pop(device_id, None)
        else:
            self._remote.pop((worker, device_id), None)
            self._remember_offline(data)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every device known, online ones first seen now, sorted by id."""
        now = now_iso()
        out: dict[str, dict[str, Any]] = {}
        for device_id, entry in self._local.items():
            out[device_id] = self._public(
                self._status(entry.device, online=True, at=entry.since), now
            )
        for key, data in list(self._remote.items()):
            if not self._alive(key[0]):
                # Its worker died without saying goodbye for its clients.
                del self._remote[key]
                self._remember_offline({**data, "online": False, "last_seen": now})
                continue
            out.setdefault(key[1], self._public(data, now))
        for device_id, data in self._offline.items():
            out.setdefault(device_id, self._public(data, data.get("last_seen", now)))
        return [out[k] for k in sorted(out)]

    def _status(self, device: Device, *, online: bool, at: str) -> dict[str, Any]:
        """The ``device.status`` payload for a transition at ``at``."""
        return {
            "id": device.id,
            "kind": device.kind,
            "transport": TRANSPORT,
            "online": online,
            "last_seen": at,
            "since": at,
            "user": {"id": device.user_id, "name": device.user_name, "role": device.role},
            "client": device.client,
            "worker": self.worker_id,
        }

    @staticmethod
    def _public(data: dict[str, Any], last_seen: str) -> dict[str, Any]:
        """The ``GET /devices`` item: API.md's fields, then what a WebSocket client adds."""
        online = data.get("online") is True
        return {
            "id": data.get("id"),
            "kind": data.get("kind"),
            "station": None,
            "online": online,
            "last_seen": last_seen if online else data.get("last_seen"),
            "paper": None,
            "pending_jobs": None,
            "transport": TRANSPORT,
            "since": data.get("since"),
            "user": data.get("user"),
            "client": data.get("client"),
        }

    def _remember_offline(self, data: dict[str, Any]) -> None:
        device_id = data.get("id")
        if not isinstance(device_id, str) or device_id in self._local:
            return
        self._offline[device_id] = {**data, "online": False}
        self._offline.move_to_end(device_id)
        while len(self._offline) > OFFLINE_KEPT:
            self._offline.popitem(last=False)

    def _alive(self, worker: str) -> bool:
        now = time.monotonic()
        cached = self._liveness.get(worker)
        if cached is not None and now - cached[0] < LIVENESS_TTL_SECONDS:
            return cached[1]
        alive = worker_alive(worker)
        self._liveness[worker] = (now, alive)
        return alive


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), from /proc; None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and ")": count fields after its last ")".
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[19])  # field 22, starttime
    except (IndexError, ValueError):
        return None


def this_worker() -> str:
    """This process's id in presence: pid and start time, so a reused pid is not mistaken."""
    pid = os.getpid()
    ticks = _start_ticks(pid)
    return f"{pid}:{ticks if ticks is not None else int(time.time())}"


def worker_alive(worker: str) -> bool:
    """Whether the process a worker id names is still running (workers share one box)."""
    pid_text, _, started = worker.partition(":")
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    ticks = _start_ticks(pid)
    if ticks is not None:
        return str(ticks) == started
    if Path("/proc/self/stat").exists():
        return False  # /proc works, so the process is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
