"""Login throttling: a few failures per login and per address, then a pause.

A PIN has 10,000 values; five tries per five minutes per login and per
address makes guessing one take weeks, while a cashier who mistypes twice
never notices. A success clears the login's count.

Counted in SQLite (``login_failures``), not in process memory: every worker
of ``serve --workers N`` answers logins, and a count per worker would give a
guesser N times the tries; a restart would give them a fresh start. The
failure rows are written in the transaction that audits the attempt, and
rows older than the window are dropped as new ones come. Times are wall
clock seconds, the only clock the workers share.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import sqlite_utils

from hub.errors import RateLimited


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """The rule: ``max_failures`` per ``window_seconds`` for a login, and for an address."""

    max_failures: int
    window_seconds: float

    def check(self, db: sqlite_utils.Database, login: str, address: str) -> None:
        """Raise RateLimited if either the login or the address has used up its failures."""
        now = time.time()
        wait = max(self._wait(db, key, now) for key in _keys(login, address))
        if wait > 0:
            raise RateLimited(
                "too many failed logins; try again later", retry_after=max(1, math.ceil(wait))
            )

    def failed(self, db: sqlite_utils.Database, login: str, address: str) -> None:
        """Count one failure against both keys, in the caller's write transaction."""
        now = time.time()
        db.execute("DELETE FROM login_failures WHERE at < ?", (now - self.window_seconds,))
        db.conn.executemany(
            "INSERT INTO login_failures (key, at) VALUES (?, ?)",
            [(key, now) for key in _keys(login, address)],
        )

    def succeeded(self, db: sqlite_utils.Database, login: str) -> None:
        db.execute("DELETE FROM login_failures WHERE key = ?", (_login_key(login),))

    def _wait(self, db: sqlite_utils.Database, key: str, now: float) -> float:
        """Seconds until the oldest of the key's last ``max_failures`` leaves the window."""
        count, oldest = db.execute(
            "SELECT COUNT(*), MIN(at) FROM (SELECT at FROM login_failures WHERE key = ? "
            "AND at > ? ORDER BY at DESC LIMIT ?)",
            (key, now - self.window_seconds, self.max_failures),
        ).fetchone()
        if count < self.max_failures:
            return 0.0
        return float(oldest) + self.window_seconds - now


def _login_key(login: str) -> str:
    return f"login:{login.lower()}"


def _keys(login: str, address: str) -> tuple[str, str]:
    return _login_key(login), f"addr:{address}"
