"""The staff roles and who may do what: one table the route guards and the services read.

``Role`` is a ``StrEnum``, so a role is the same string in the ``users`` table,
in a token's claims and in JSON as before; ``Role.CASHIER == "cashier"``.
An ``Actor``'s role stays a plain string: the hub also acts as roles no one
logs in with (``board``, ``anonymous`` in an audit row), and those hold no
permission.

A route names the permission it needs (``requires(*PERMISSIONS["manage"])``);
a service that is reached without a route guard in front of it (a transition
fired by the kitchen bridge as well as by a till) checks the same table with
``allowed``. A permission is checked once on each path, never twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    CASHIER = "cashier"
    MANAGER = "manager"
    KITCHEN = "kitchen"
    DEVICE = "device"  # a kitchen display or printer signed in with a device token
    ADMIN = "admin"


ALL_STAFF = frozenset(Role)
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})
TILL = frozenset({Role.CASHIER, Role.MANAGER, Role.ADMIN})
KITCHEN = frozenset({Role.KITCHEN, Role.DEVICE, Role.MANAGER, Role.ADMIN})
_BUMPERS = frozenset({Role.CASHIER, *KITCHEN})  # the till may move an order on too

PERMISSIONS: Mapping[str, frozenset[Role]] = MappingProxyType(
    {
        # Reading orders, sessions, the catalogue and the devices.
        "read": ALL_STAFF,
        # Opening and closing a till's session; creating and editing its orders.
        "till": TILL,
        # The kitchen's screens: jobs, tickets, stations, bumps.
        "kitchen": KITCHEN,
        # The catalogue, users, the event log, sync, jobs and the dashboard.
        "manage": MANAGERS,
        # Each order event (``hub.orders.machine.EVENTS``). Devices bump through the bridge.
        "order.validate": TILL,
        "order.pay": TILL,
        "order.start": _BUMPERS,
        "order.ready": _BUMPERS,
        "order.recall": KITCHEN,
        "order.complete": _BUMPERS,
        "order.invoice": TILL,
        "order.cancel": TILL,
    }
)


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` holds ``permission`` (an unknown permission is held by no one)."""
    return role in PERMISSIONS.get(permission, frozenset())
