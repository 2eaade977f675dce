"""The one place a PIN or password is checked: throttled, then audited.

A login (``POST /api/v1/auth/token``) and a manager's approval given at a till
(an order's ``approval``) both come here, so a PIN guessed through either
counts against the same few tries of that login and leaves the same audit
rows. A check that skipped this module would give a guesser a door without a
lock, which is how an approval once let a cashier try 60 PINs in a row.
"""

from __future__ import annotations

import sqlite_utils

from hub.audit import records as audit
from hub.auth.throttle import LoginThrottle, Reservation
from hub.auth.users import Actor, authenticate
from hub.db.store import Store


async def check(
    store: Store,
    throttle: LoginThrottle,
    login: str,
    *,
    pin: str | None,
    password: str | None,
    address: str,
    purpose: str,
) -> Actor | None:
    """The user whose PIN or password this is, else None; RateLimited when locked out.

    Three steps: count the attempt (refused at once while the login or the
    address is locked out), check the secret on a reader thread (PBKDF2 is too
    slow for the writer), then audit it and forgive a success, in one
    transaction.
    """
    reservation = await store.write(throttle.reserve, login, address)
    actor = await store.read(authenticate, login, pin=pin, password=password)
    await store.write(_settle, throttle, login, address, purpose, reservation, actor)
    return actor


def _settle(
    db: sqlite_utils.Database,
    throttle: LoginThrottle,
    login: str,
    address: str,
    purpose: str,
    reservation: Reservation,
    actor: Actor | None,
) -> None:
    audit.login(db, login, address, actor, purpose)
    throttle.settle(db, login, reservation, ok=actor is not None)
    if actor is not None:
        return
    window = int(throttle.window_seconds)
    if reservation.fills_login:
        audit.lockout(db, login, address, scope="login", retry_after=window, purpose=purpose)
    if reservation.fills_address:
        audit.lockout(db, login, address, scope="address", retry_after=window, purpose=purpose)


def unlock(
    db: sqlite_utils.Database, throttle: LoginThrottle, login: str, actor: Actor
) -> int | None:
    """Lift a login's lockout (clear its failures) and audit who did; the number of
    failures cleared, None for a login that does not exist. In the caller's transaction."""
    row = db.execute("SELECT id FROM users WHERE login = ?", (login,)).fetchone()
    if row is None:
        return None
    cleared = throttle.unlock(db, login)
    audit.unlock(db, actor, int(row[0]), login, cleared)
    return cleared
