"""Is the database at ``EDGEHUB_DB`` one a command may use? Asked before anything starts.

SQLite creates a file wherever it is pointed, so a mistyped or relative
``EDGEHUB_DB`` used to give an empty store where the command ran: users
"added" to it, tokens minted from it, a hub serving nobody. Only ``migrate``
and ``demo`` create a database (``CREATE``), only ``restore`` replaces one
(``REPLACE``); every other command needs the store's database to exist, to
have been migrated and to be intact (``USE``), and ``serve`` also needs a
user who can log in (``SERVE``).

Damage is found here too: a file that is not SQLite (``SQLITE_NOTADB``) or
whose pages are broken (``SQLITE_CORRUPT``, a failing ``quick_check``) is
reported with what to do — restore a backup — instead of a traceback, or a
hub answering "try again shortly" forever. ``quick_check`` reads every page
once (about a second per few hundred MB), a price paid at start only.

Each problem is one line naming the path and ``EDGEHUB_DB``.
"""

from __future__ import annotations

import enum
import os
import sqlite3
from pathlib import Path

from hub.settings import Settings


class Need(enum.Enum):
    NOTHING = "nothing"  # the command does not open the database
    CREATE = "create"  # migrate, demo: may create it; an existing one must be intact
    REPLACE = "replace"  # restore: may overwrite it, damaged or not
    USE = "use"  # must exist, migrated and intact
    SERVE = "serve"  # as USE, and hold at least one active user


CORRUPTION = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def is_corruption(exc: BaseException) -> bool:
    """A SQLite error saying the file itself is damaged (not locked, full or missing)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.DatabaseError) and code is not None and code & 0xFF in CORRUPTION


def restore_advice(settings: Settings) -> str:
    """What an operator does about a damaged database, in one sentence."""
    return (
        f"restore it from a backup: edgehub restore FILE "
        f"(the backups are in {settings.backup_path})"
    )


def problems(settings: Settings, need: Need) -> list[str]:
    """What keeps the command from using the database, one line each; [] when it may."""
    if need is Need.NOTHING:
        return []
    path = settings.store.db
    found = _unwritable(path)
    if found or need is Need.REPLACE:
        return found
    if not path.exists():
        if need is Need.CREATE:
            return []
        return [
            f"EDGEHUB_DB: no database at {path}. Point EDGEHUB_DB at the store's database "
            "(the services use /var/lib/edgehub/edgehub.db), or create one with "
            "`edgehub migrate` and add its first user with `edgehub user add`"
        ]
    if not path.is_file():
        return [f"EDGEHUB_DB: {path} is not a file"]
    try:
        return _content(settings, need)
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            return [f"EDGEHUB_DB: {path} is damaged ({exc}); {restore_advice(settings)}"]
        return [f"EDGEHUB_DB: cannot read {path}: {exc}"]


def _content(settings: Settings, need: Need) -> list[str]:
    path = settings.store.db
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(settings.store.db_busy_timeout_ms)}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        verdict = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if verdict != ["ok"]:
            detail = "; ".join(str(line) for line in verdict[:3])
            return [
                f"EDGEHUB_DB: {path} is damaged (quick_check: {detail}); {restore_advice(settings)}"
            ]
        migrated = "_sqlite_migrations" in tables and bool(
            conn.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0]
        )
        if need is Need.CREATE:
            return []
        if not migrated:
            return [
                f"EDGEHUB_DB: {path} is not an EdgeHub database (never migrated). Point "
                "EDGEHUB_DB at the store's database, or run `edgehub migrate` to make this one"
            ]
        if need is Need.SERVE:
            users = conn.execute("SELECT COUNT(*) FROM users WHERE active = 1").fetchone()[0]
            if not users:
                return [
                    f"the store in {path} (EDGEHUB_DB) has no users, so no till could log in: "
                    "add the first with `edgehub user add admin --role admin`, then start serve"
                ]
        return []
    finally:
        conn.close()


def _unwritable(path: Path) -> list[str]:
    """The directory (or the file) the hub must write but cannot; SQLite writes its
    WAL, shared memory and lock files beside the database, even to read it."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    for target in (folder, path) if path.exists() else (folder,):
        if not os.access(target, os.W_OK):
            why = "read-only file system" if _read_only_mount(target) else "permission denied"
            return [
                f"EDGEHUB_DB: cannot write to {target} ({why}): the database and its WAL and "
                f"lock files are written beside {path.name}. Give this user write access "
                f"(the services run as edgehub), or point EDGEHUB_DB elsewhere"
            ]
    return []


def _read_only_mount(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
