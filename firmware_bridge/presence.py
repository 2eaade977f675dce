"""Device presence: what each device last said about itself, and where a ticket goes now.

A device's status topic is retained and doubles as its last will, so the broker
always holds its latest word: ``online: true`` with paper and cover while it
runs, ``online: false`` once it has gone, cleanly or not. The bridge copies that
into the ``devices`` table and appends a ``device.status`` event whenever
something a person would care about changed, in the same transaction.

Routing reads only that table: a station's ticket goes to its first healthy
primary, else to its first healthy backup (marked ``backup: true``), else, when
no device can print, to the primary anyway, where it waits for the retry that
follows the device's return. A station without registered devices gets tickets
addressed to no one in particular, which any device on the station may take.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from firmware_bridge.messages import DeviceStatus
from hub import events
from hub.clock import now_iso


@dataclass(frozen=True, slots=True)
class Route:
    """Where one attempt of a job goes."""

    device: str | None
    backup: bool


@dataclass(frozen=True, slots=True)
class StatusChange:
    """What a status message changed; ``health_changed`` says routing may now differ."""

    device: str
    station: str
    changed: bool
    health_changed: bool


HEALTHY = "(online = 1 AND error IS NULL AND paper IS NOT 'out' AND cover IS NOT 'open')"
"""SQL over ``devices``: the device would print a ticket sent now (``DeviceStatus.healthy``)."""


def route(db: sqlite_utils.Database, station: str) -> Route:
    """The device that should get the station's next ticket."""
    rows = db.execute(
        f"SELECT id, role, {HEALTHY} FROM devices WHERE station = ? ORDER BY role = 'backup', id",
        (station,),
    ).fetchall()
    healthy = [row for row in rows if row[2]]
    if not rows:
        return Route(None, backup=False)
    device_id, role, _ = healthy[0] if healthy else rows[0]
    return Route(device_id, backup=role == "backup")


def record_status(
    db: sqlite_utils.Database, device: str, status: DeviceStatus
) -> StatusChange | None:
    """Store a device's status; None when the device is not registered.

    ``online: false`` is a last will or a goodbye: it says nothing about paper or
    cover, so those keep their last known values.
    """
    row = db.execute(
        "SELECT station, kind, role, online, paper, cover, error, firmware FROM devices "
        "WHERE id = ?",
        (device,),
    ).fetchone()
    if row is None:
        return None
    station, kind, role, online, paper, cover, error, firmware = row
    before = DeviceStatus(bool(online), paper, cover, error, firmware)
    if status.online:
        after = status
    else:
        after = DeviceStatus(False, paper, cover, None, status.firmware or firmware)
    now = now_iso()
    changed = after != before
    db.execute(
        "UPDATE devices SET online = ?, paper = ?, cover = ?, error = ?, firmware = ?, "
        "last_seen = ?, status_at = CASE WHEN ? THEN ? ELSE status_at END WHERE id = ?",
        (
            int(after.online),
            after.paper,
            after.cover,
            after.error,
            after.firmware,
            now,
            int(changed),
            now,
            device,
        ),
    )
    if changed:
        data: dict[str, Any] = {
            "device": device,
            "kind": kind,
            "station": station,
            "role": role,
            "online": after.online,
            "paper": after.paper,
            "cover": after.cover,
            "error": after.error,
            "firmware": after.firmware,
            "healthy": after.healthy,
            "at": now,
        }
        events.append(
            db, "device.status", data, ["store", "devices", "kitchen", f"kitchen:{station}"]
        )
    return StatusChange(device, station, changed, before.healthy != after.healthy)


def touch(db: sqlite_utils.Database, device: str) -> None:
    """A device spoke (an ack): it is alive now, whatever its status said last."""
    db.execute("UPDATE devices SET last_seen = ? WHERE id = ?", (now_iso(), device))


GONE = DeviceStatus(online=False, paper=None, cover=None, error=None, firmware=None)


def expire_unheard(db: sqlite_utils.Database, heard: set[str]) -> list[StatusChange]:
    """Mark offline the devices said to be online that have not spoken since we connected.

    A retained status can outlive its device: one that died while the broker was
    down never had its last will published, and a broker restarted without
    persistence forgets retained messages altogether. A live device repeats its
    status on every (re)connection, so after a grace period silence means gone.
    """
    rows = db.execute("SELECT id FROM devices WHERE online = 1 ORDER BY id").fetchall()
    changes = []
    for (device,) in rows:
        if device not in heard:
            change = record_status(db, device, GONE)
            if change is not None:
                changes.append(change)
    return changes
