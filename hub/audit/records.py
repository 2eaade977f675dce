"""What each audited action writes: payments, refunds, price overrides, cancels, logins.

Called inside the transaction of the change (``hub.orders.commands`` and the login
route), so an audit row exists exactly when its change was committed. Rows hold
ids, amounts in minor units and states; never a PIN, a token, or a payment's
free-text reference (a till may type card details there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlite_utils

from hub.audit import chain
from hub.auth.users import Actor
from hub.orders.models import Order


def order_transition(
    db: sqlite_utils.Database,
    actor: Actor,
    records: tuple[str, ...],
    src: str,
    order: Order,
    reason: str | None = None,
) -> None:
    """Audit a transition just written with the ``records`` its effects declare
    (``hub.orders.effects``): ``payment``, ``cancel``, ``refund``, in that order."""
    if not records:
        return
    subject = f"order:{order.id}"
    base = {"order_id": order.id, "name": order.name, "from": src, "to": order.state}
    for action in records:
        data = _ORDER_RECORDS[action](db, order.id, reason)
        if data is not None:
            chain.append(db, action, actor, subject, {**base, **data})


def _payment(db: sqlite_utils.Database, order_id: int, reason: str | None) -> dict[str, Any]:
    return {"payments": _payments(db, order_id, "payment")}


def _cancel(db: sqlite_utils.Database, order_id: int, reason: str | None) -> dict[str, Any]:
    return {"reason": reason}


def _refund(db: sqlite_utils.Database, order_id: int, reason: str | None) -> dict[str, Any] | None:
    refunds = _payments(db, order_id, "refund")
    return {"refunds": refunds} if refunds else None  # a paid order of nothing gave nothing back


_OrderRecord = Callable[[sqlite_utils.Database, int, str | None], dict[str, Any] | None]
_ORDER_RECORDS: dict[str, _OrderRecord] = {
    "payment": _payment,
    "cancel": _cancel,
    "refund": _refund,
}


def price_overrides(db: sqlite_utils.Database, actor: Actor, order_id: int) -> None:
    """Audit every line just written with a manual price or discount."""
    rows = db.execute(
        "SELECT l.position, l.product_id, p.price, l.price_unit, l.discount, l.override_by "
        "FROM order_lines l JOIN products p ON p.id = l.product_id "
        "WHERE l.order_id = ? AND l.price_manual = 1 ORDER BY l.position",
        (order_id,),
    ).fetchall()
    for position, product_id, list_price, price, discount, approved_by in rows:
        chain.append(
            db,
            "price_override",
            actor,
            f"order:{order_id}",
            {
                "order_id": order_id,
                "position": position,
                "product_id": product_id,
                "list_price": list_price,
                "price_unit": price,
                "discount": discount,
                "approved_by": approved_by,
            },
        )


def login(
    db: sqlite_utils.Database,
    login_name: str,
    address: str,
    actor: Actor | None,
    purpose: str = "token",
) -> None:
    """Audit a PIN or password check: ``purpose`` says what it was for (``token``: a
    login, ``approval``: a manager approving a till's override).

    A failed attempt for an unknown login does not record what was typed: people
    type their PIN into the login field often enough.
    """
    where = {"address": address, "purpose": purpose}
    if actor is not None:
        chain.append(db, "login", actor, f"user:{actor.id}", {"login": login_name, **where})
        return
    who, subject, data = _attempted(db, login_name)
    chain.append(db, "login_failed", who, subject, {**data, **where})


def lockout(
    db: sqlite_utils.Database,
    login_name: str,
    address: str,
    *,
    scope: str,
    retry_after: int,
    purpose: str,
) -> None:
    """Audit a login (``scope`` login) or an address (``scope`` address) that just used
    its last try: further attempts answer 429 for ``retry_after`` seconds."""
    who, subject, data = _attempted(db, login_name)
    facts = {"scope": scope, "address": address, "retry_after": retry_after, "purpose": purpose}
    chain.append(db, "login_locked", who, subject, {**data, **facts})


def unlock(
    db: sqlite_utils.Database, actor: Actor, user_id: int, login_name: str, cleared: int
) -> None:
    """Audit a manager's (or the operator's ``edgehub user unlock``) lifting of a lockout."""
    data = {"login": login_name, "failures_cleared": cleared}
    chain.append(db, "login_unlocked", actor, f"user:{user_id}", data)


def _attempted(db: sqlite_utils.Database, login_name: str) -> tuple[Actor, str, dict[str, Any]]:
    """Who an attempt was for: the user if the login exists, else nobody named."""
    row = db.execute("SELECT id, name FROM users WHERE login = ?", (login_name,)).fetchone()
    if row is None:
        return Actor(id=None, role="anonymous", name="unknown"), "login", {"known_login": False}
    return (
        Actor(id=row[0], role="unknown", name=row[1]),
        f"user:{row[0]}",
        {"known_login": True, "login": login_name},
    )


def _payments(db: sqlite_utils.Database, order_id: int, kind: str) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT id, method_id, amount FROM payments WHERE order_id = ? AND kind = ? ORDER BY id",
        (order_id, kind),
    ).fetchall()
    return [{"id": r[0], "method_id": r[1], "amount": r[2]} for r in rows]
