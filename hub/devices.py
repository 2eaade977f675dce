"""Kitchen devices on MQTT: the registry, and the listing ``GET /api/v1/devices`` shows.

A device is registered by hand (``edgehub device add``) with the station it
serves and its role there: the bridge sends a station's tickets to a healthy
primary, and to a backup only when no primary can print. What a device last
said about itself (online, paper, cover) is written by the bridge from the
device's retained status topic; this module only reads it.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from hub.clock import now_iso
from hub.kitchen_jobs import OPEN_STATES
from hub.mqtt_credentials import RESERVED
from hub.mqtt_topics import is_name

KINDS = ("printer", "kds")
ROLES = ("primary", "backup")


def add_device(
    db: sqlite_utils.Database, device_id: str, *, station: str, role: str, kind: str
) -> bool:
    """Register a device, or change an existing one's station, role and kind.

    Returns True when it was new. Runs in the caller's transaction. Names
    become MQTT topic levels, hence the strict alphabet.
    """
    if not is_name(device_id) or device_id in RESERVED:
        raise ValueError("a device id is 1-64 letters, digits, _ or - (and not edgehub-bridge)")
    if not is_name(station):
        raise ValueError("a station is 1-64 letters, digits, _ or -")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    changed = db.execute(
        "UPDATE devices SET station = ?, role = ?, kind = ? WHERE id = ?",
        (station, role, kind, device_id),
    ).rowcount
    if changed:
        return False
    db.execute(
        "INSERT INTO devices (id, kind, station, role, created_at) VALUES (?, ?, ?, ?, ?)",
        (device_id, kind, station, role, now_iso()),
    )
    return True


def known_stations(db: sqlite_utils.Database) -> list[str]:
    """The stations tickets go to (some product names it) or a device already serves."""
    rows = db.execute(
        "SELECT station FROM products WHERE station IS NOT NULL AND station != '' "
        "UNION SELECT station FROM devices ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def remove_device(db: sqlite_utils.Database, device_id: str) -> bool:
    """Forget a device; jobs keep its name in their history."""
    return db.execute("DELETE FROM devices WHERE id = ?", (device_id,)).rowcount == 1


def station_of(db: sqlite_utils.Database, device_id: str) -> str | None:
    row = db.execute("SELECT station FROM devices WHERE id = ?", (device_id,)).fetchone()
    return str(row[0]) if row else None


_COLUMNS = (
    "d.id, d.kind, d.station, d.role, d.online, d.last_seen, d.paper, d.cover, d.error, "
    "d.firmware, d.status_at"
)


def list_devices(
    db: sqlite_utils.Database, *, after: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """MQTT devices by id, each with its last reported state and its open job count.

    ``pending_jobs`` counts the jobs last sent to the device that no device has
    acknowledged yet.
    """
    placeholders = ", ".join("?" for _ in OPEN_STATES)
    rows = db.execute(
        f"SELECT {_COLUMNS}, (SELECT COUNT(*) FROM kitchen_jobs j WHERE j.device = d.id "
        f"AND j.state IN ({placeholders})) FROM devices d WHERE d.id > ? ORDER BY d.id LIMIT ?",
        (*OPEN_STATES, after or "", -1 if limit is None else limit),
    ).fetchall()
    return [
        {
            "id": row[0],
            "kind": row[1],
            "station": row[2],
            "role": row[3],
            "online": bool(row[4]),
            "last_seen": row[5],
            "paper": row[6],
            "cover": row[7],
            "error": row[8],
            "firmware": row[9],
            "status_at": row[10],
            "pending_jobs": row[11],
        }
        for row in rows
    ]
