"""The MQTT topics of one store, as docs/kitchen.md ("Topics and payloads") and the ACL
lay them out.

Every topic starts with ``edgehub/{store}/``; the ACL in systemd/mosquitto grants
each client exactly the ones below, so their shape is part of the contract:

    kitchen/{station}/jobs      hub -> device   tickets (QoS 1)
    kitchen/{station}/bump      KDS -> hub      start / ready / recall
    kitchen/{station}/errors    hub -> KDS      why a bump was refused
    devices/{device}/ack        device -> hub   printed / shown / failed
    devices/{device}/status     device -> hub   retained, and the device's last will
    orders/ready                hub -> boards   retained list of ready order numbers
    bridge/claim                hub -> hub      retained: which bridge runs the store
                                                (firmware_bridge/claim.py)

Station and device names become topic levels, so they may hold only letters,
digits, ``_`` and ``-``: a ``+``, ``#`` or ``/`` in one would widen a
subscription or move a message to another topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What a station or device name may be, so that it is one safe topic level."""


def is_name(value: object) -> bool:
    return isinstance(value, str) and NAME.match(value) is not None


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names of one store."""

    store: str

    @property
    def root(self) -> str:
        return f"edgehub/{self.store}"

    def jobs(self, station: str) -> str:
        return f"{self.root}/kitchen/{_level(station)}/jobs"

    def bump(self, station: str) -> str:
        return f"{self.root}/kitchen/{_level(station)}/bump"

    def errors(self, station: str) -> str:
        return f"{self.root}/kitchen/{_level(station)}/errors"

    def ack(self, device: str) -> str:
        return f"{self.root}/devices/{_level(device)}/ack"

    def status(self, device: str) -> str:
        return f"{self.root}/devices/{_level(device)}/status"

    @property
    def ready_board(self) -> str:
        return f"{self.root}/orders/ready"

    @property
    def claim(self) -> str:
        return f"{self.root}/bridge/claim"

    # Subscriptions of the bridge.

    @property
    def all_acks(self) -> str:
        return f"{self.root}/devices/+/ack"

    @property
    def all_statuses(self) -> str:
        return f"{self.root}/devices/+/status"

    @property
    def all_bumps(self) -> str:
        return f"{self.root}/kitchen/+/bump"

    def parse(self, topic: str) -> tuple[str, str] | None:
        """``("ack" | "status", device)`` or ``("bump", station)`` for a topic the bridge hears."""
        prefix = self.root + "/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix) :].split("/")
        if len(parts) != 3 or not is_name(parts[1]):
            return None
        if parts[0] == "devices" and parts[2] in ("ack", "status"):
            return parts[2], parts[1]
        if parts[0] == "kitchen" and parts[2] == "bump":
            return "bump", parts[1]
        return None


def _level(name: str) -> str:
    if not is_name(name):
        raise ValueError(f"{name!r} cannot be an MQTT topic level (letters, digits, _ and -)")
    return name
