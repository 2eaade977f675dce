"""Credential throttling: a few failures per login, many more per address, then a pause.

A PIN has 10,000 values; five tries per five minutes per login makes guessing
one take weeks, while a cashier who mistypes twice never notices. The limit
per address is far higher (``login_address_max_failures``): every till of a
store may reach the hub from one address (NAT, a proxy), and one cashier's
lockout must not lock out the store. It is there to slow a guesser who cycles
through logins, not to catch a mistyping cashier.

Counted in SQLite (``login_failures``), not in process memory: every worker
of ``serve --workers N`` checks PINs, and a count per worker would give a
guesser N times the tries; a restart would give them a fresh start.

Count first, forgive on success: ``reserve`` refuses a login or address that
used up its failures, else writes one failure row for each in the same write
transaction, before the PIN is checked. Concurrent guesses therefore cannot
all pass the check before any of them is counted. ``settle`` then deletes
the rows of an attempt that succeeded (and every failure of its login). Times
are wall clock seconds, the only clock the workers share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import sqlite_utils

from hub.clock import SYSTEM_CLOCK, Clock
from hub.errors import RateLimited


@dataclass(frozen=True, slots=True)
class Reservation:
    """One attempt counted ahead of its check; ``fills_*``: it used the last try."""

    login_row: int
    address_row: int
    fills_login: bool
    fills_address: bool


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """Failures allowed per window: ``max_failures`` for a login, more for an address."""

    max_failures: int
    window_seconds: float
    address_max_failures: int
    # Wall time, the only clock the workers share; a test moves a ManualClock past the window.
    clock: Clock = field(default=SYSTEM_CLOCK, compare=False)

    def reserve(self, db: sqlite_utils.Database, login: str, address: str) -> Reservation:
        """Raise RateLimited if the login or the address has used up its failures;
        else count this attempt as a failure, in the caller's write transaction."""
        now = self.clock.wall()
        db.execute("DELETE FROM login_failures WHERE at < ?", (now - self.window_seconds,))
        login_count, login_wait = self._state(db, login_key(login), self.max_failures, now)
        address_key = f"addr:{address}"
        address_count, address_wait = self._state(db, address_key, self.address_max_failures, now)
        if login_wait > 0:
            raise RateLimited(
                f"too many failed attempts for {login!r}; try again in "
                f"{_seconds(login_wait)} s, or ask a manager to unlock it",
                retry_after=_seconds(login_wait),
                scope="login",
            )
        if address_wait > 0:
            raise RateLimited(
                f"too many failed attempts from {address}; try again in {_seconds(address_wait)} s",
                retry_after=_seconds(address_wait),
                scope="address",
            )
        rows = [
            db.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)", (key, now)).lastrowid
            for key in (login_key(login), address_key)
        ]
        assert rows[0] is not None and rows[1] is not None
        return Reservation(
            rows[0],
            rows[1],
            fills_login=login_count + 1 == self.max_failures,
            fills_address=address_count + 1 == self.address_max_failures,
        )

    def settle(
        self, db: sqlite_utils.Database, login: str, reservation: Reservation, *, ok: bool
    ) -> None:
        """A success clears its login's count and un-counts its own address row;
        a failure stays counted."""
        if ok:
            db.execute("DELETE FROM login_failures WHERE key = ?", (login_key(login),))
            db.execute("DELETE FROM login_failures WHERE rowid = ?", (reservation.address_row,))

    def unlock(self, db: sqlite_utils.Database, login: str) -> int:
        """Forget a login's failures (a manager's unlock); returns how many there were."""
        cursor = db.execute("DELETE FROM login_failures WHERE key = ?", (login_key(login),))
        return max(0, cursor.rowcount)

    def retry_after(self, db: sqlite_utils.Database, login: str) -> int:
        """Seconds until the login may try again; 0 when it is not locked out."""
        _, wait = self._state(db, login_key(login), self.max_failures, self.clock.wall())
        return _seconds(wait) if wait > 0 else 0

    def _state(
        self, db: sqlite_utils.Database, key: str, limit: int, now: float
    ) -> tuple[int, float]:
        """Failures of ``key`` in the window (at most ``limit`` counted) and the seconds
        until the oldest of the last ``limit`` leaves it (0: not locked out)."""
        count, oldest = db.execute(
            "SELECT COUNT(*), MIN(at) FROM (SELECT at FROM login_failures WHERE key = ? "
            "AND at > ? ORDER BY at DESC LIMIT ?)",
            (key, now - self.window_seconds, limit),
        ).fetchone()
        if count < limit:
            return int(count), 0.0
        return int(count), float(oldest) + self.window_seconds - now


def login_key(login: str) -> str:
    return f"login:{login.lower()}"


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))
