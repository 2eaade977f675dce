"""Staff accounts: who may log in, with which secret, in which role.

PINs and passwords are stored as salted PBKDF2-SHA256 hashes (stdlib, no
extra dependency). A four-digit PIN is weak by nature: what protects it is
the login throttle in front of it, not the hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlite_utils

from hub import events
from hub.auth.roles import ALL_STAFF, MANAGERS, Role
from hub.clock import now_iso


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is doing something: a logged-in user, or a hub process acting for the store."""

    id: int | None
    role: str
    name: str

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGERS


SYSTEM = Actor(id=None, role=Role.ADMIN, name="system")


def hash_secret(secret: str, iterations: int) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    encoded_salt = base64.b64encode(salt).decode()
    return f"pbkdf2_sha256${iterations}${encoded_salt}${base64.b64encode(digest).decode()}"


def verify_secret(secret: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac(
        "sha256", secret.encode(), base64.b64decode(salt), int(iterations)
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def add_user(
    db: sqlite_utils.Database,
    *,
    login: str,
    name: str,
    role: str,
    pin: str | None = None,
    password: str | None = None,
    iterations: int,
) -> int:
    """Create or update a user (by login); returns the id. Runs in the caller's transaction."""
    if role not in ALL_STAFF:
        raise ValueError(f"role must be one of {', '.join(Role)}")
    if pin is None and password is None:
        raise ValueError("a user needs a PIN or a password")
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValueError("a PIN is 4 to 8 digits")
    pin_hash = hash_secret(pin, iterations) if pin else None
    password_hash = hash_secret(password, iterations) if password else None
    row = db.execute("SELECT id FROM users WHERE login = ?", (login,)).fetchone()
    if row:
        db.execute(
            "UPDATE users SET name = ?, role = ?, pin_hash = COALESCE(?, pin_hash), "
            "password_hash = COALESCE(?, password_hash), active = 1 WHERE id = ?",
            (name, role, pin_hash, password_hash, row[0]),
        )
        # Staff belong to the catalogue head office sends; hubs drop the cached actor.
        # Room ``store`` only, unlike other catalogue changes: tills need not
        # know who else works here.
        events.append(db, "catalog.updated", {"change": "user", "users": [row[0]]}, ["store"])
        return int(row[0])
    cursor = db.execute(
        "INSERT INTO users (login, name, role, pin_hash, password_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (login, name, role, pin_hash, password_hash, now_iso()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def disable_user(db: sqlite_utils.Database, login: str) -> int | None:
    """Deactivate a user (their tokens stop working at once); returns the id, None if unknown.

    The event tells every hub process to drop the cached actor, so a token of
    a dismissed employee is refused on its next request, not at its expiry.
    """
    row = db.execute("SELECT id FROM users WHERE login = ?", (login,)).fetchone()
    if row is None:
        return None
    db.execute("UPDATE users SET active = 0 WHERE id = ?", (row[0],))
    events.append(db, "catalog.updated", {"change": "user", "users": [row[0]]}, ["store"])
    return int(row[0])


def authenticate(
    db: sqlite_utils.Database, login: str, *, pin: str | None, password: str | None
) -> Actor | None:
    """The active user whose PIN or password matches, else None."""
    row = db.execute(
        "SELECT id, name, role, pin_hash, password_hash FROM users WHERE login = ? AND active = 1",
        (login,),
    ).fetchone()
    if row is None:
        # Spend the same time as a real check, so a wrong login is not told apart.
        verify_secret(pin or password or "", _DUMMY_HASH)
        return None
    user_id, name, role, pin_hash, password_hash = row
    ok = (pin is not None and verify_secret(pin, pin_hash)) or (
        password is not None and verify_secret(password, password_hash)
    )
    return Actor(id=user_id, role=role, name=name) if ok else None


def get_actor(db: sqlite_utils.Database, user_id: int) -> Actor | None:
    row = db.execute(
        "SELECT id, name, role FROM users WHERE id = ? AND active = 1", (user_id,)
    ).fetchone()
    return Actor(id=row[0], role=row[2], name=row[1]) if row else None


_DUMMY_HASH = "pbkdf2_sha256$120000$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="
