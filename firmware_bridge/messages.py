"""What devices may say to the hub, checked before anything acts on it.

Anything on the store LAN with a login can publish, and a device's firmware
can be wrong: every inbound payload is size-checked before it is parsed, parsed
as JSON, and checked field by field. A payload that fails raises ``Rejected``
with a short reason fit for a log line (never the payload itself); the bridge
logs it and goes on with the next message.

* Rejected (ValueError)   the payload is too big, not JSON (or nested too deeply),
                          or has a wrong field
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from hub.orders.bumps import BUMP_ACTIONS, Bump

MAX_PAYLOAD = 16 * 1024
"""Bytes. An ack, a status or a bump is well under 1 KiB; the rest is a mistake or an attack."""

MAX_TEXT = 500
"""Characters kept of a free-text field (an error message, a firmware name)."""

ACK_STATUSES = ("printed", "shown", "failed")
PAPER = ("ok", "low", "out")
COVER = ("closed", "open")


class Rejected(ValueError):
    """An inbound payload the hub will not act on; the message says why."""


@dataclass(frozen=True, slots=True)
class Ack:
    """A device's answer to a job: it printed or showed it, or could not."""

    job_id: str
    status: Literal["printed", "shown", "failed"]
    error: str | None


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A device's retained status (also its last will, then only ``online: false``)."""

    online: bool
    paper: str | None
    cover: str | None
    error: str | None
    firmware: str | None

    @property
    def healthy(self) -> bool:
        """Whether a ticket sent to this device now would be printed or shown."""
        return self.online and self.paper != "out" and self.cover != "open" and not self.error


def decode(payload: bytes) -> dict[str, Any]:
    """The JSON object in ``payload``, or Rejected."""
    if len(payload) > MAX_PAYLOAD:
        raise Rejected(f"payload of {len(payload)} bytes is over the {MAX_PAYLOAD} byte limit")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise Rejected("payload is not JSON") from None
    except RecursionError:
        # "[[[[…" deeper than the parser goes: 16 KiB is room for thousands of levels.
        raise Rejected("payload is nested too deeply") from None
    if not isinstance(data, dict):
        raise Rejected(f"payload must be a JSON object, not {type(data).__name__}")
    return data


def parse_ack(payload: bytes) -> Ack:
    data = decode(payload)
    job_id = _str(data, "job_id", limit=200)
    status = data.get("status")
    if status not in ACK_STATUSES:
        raise Rejected(f"status must be one of {', '.join(ACK_STATUSES)}")
    error = _optional_str(data, "error")
    if status == "failed" and not error:
        error = "the device did not say why"
    return Ack(job_id, status, error)


def parse_status(payload: bytes) -> DeviceStatus:
    data = decode(payload)
    online = data.get("online")
    if not isinstance(online, bool):
        raise Rejected("online must be true or false")
    paper = data.get("paper")
    if paper is not None and paper not in PAPER:
        raise Rejected(f"paper must be one of {', '.join(PAPER)} or null")
    cover = data.get("cover")
    if cover is not None and cover not in COVER:
        raise Rejected(f"cover must be one of {', '.join(COVER)} or null")
    return DeviceStatus(
        online=online,
        paper=paper,
        cover=cover,
        error=_optional_str(data, "error"),
        firmware=_optional_str(data, "firmware"),
    )


def parse_bump(payload: bytes) -> Bump:
    data = decode(payload)
    order_uuid = _str(data, "order_uuid", limit=64).lower()
    action = data.get("action")
    if action not in BUMP_ACTIONS:
        raise Rejected(f"action must be one of {', '.join(BUMP_ACTIONS)}")
    return Bump(order_uuid, action)


def _str(data: dict[str, Any], key: str, *, limit: int) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise Rejected(f"{key} must be a non-empty string")
    if len(value) > limit:
        raise Rejected(f"{key} is longer than {limit} characters")
    return value


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Rejected(f"{key} must be a string or null")
    return value[:MAX_TEXT] or None
