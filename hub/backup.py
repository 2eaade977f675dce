"""Online backups of the SQLite file, a rotating set of them, and restore.

A backup is taken with SQLite's backup API in a single step. In WAL mode that
step reads one snapshot while the hub keeps writing, so the copy holds exactly
the transactions committed before it began, never half of one. It is written
to a temporary name, switched to rollback-journal mode (one self-contained
file), checked, flushed to disk and only then renamed into the set: a crash
mid-backup leaves no file that looks like a backup.

Backups hold staff PIN hashes and every order: files are 0600, the directory 0700.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hub import order_names
from hub.db import occupancy
from hub.db.readiness import is_corruption, restore_advice
from hub.settings import Settings

_NAME = re.compile(
    r"^edgehub-(?P<store>[A-Za-z0-9_-]+)-(?P<ts>\d{8}T\d{9}Z)(?P<label>-[a-z-]+)?\.db$"
)
REQUIRED_TABLES = ("events", "orders", "_sqlite_migrations")


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    size: int
    seconds: float
    removed: tuple[Path, ...] = ()


class BackupError(Exception):
    """A backup could not be taken, or a file is not a usable backup."""


def list_backups(settings: Settings) -> list[Path]:
    """This store's scheduled backups, oldest first (pre-restore copies are not in the set)."""
    folder = settings.backup_path
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match and match["store"] == settings.store.code and not match["label"]:
            found.append(path)
    return sorted(found, key=lambda p: p.name)


def take_backup(settings: Settings, *, label: str = "", rotate: bool = True) -> BackupInfo:
    """Copy the live database into the backup set; blocking, run it in a thread."""
    if not settings.store.db.exists():
        raise BackupError(f"no database at {settings.store.db}")
    folder = settings.backup_path
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")[:-3] + "Z"
    final = folder / f"edgehub-{settings.store.code}-{stamp}{'-' + label if label else ''}.db"
    partial = final.with_name(final.name + ".partial")
    t0 = time.perf_counter()
    # Created 0600 before SQLite opens it: an empty file is an empty database.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        source = sqlite3.connect(
            settings.store.db, timeout=settings.store.db_busy_timeout_ms / 1000
        )
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            source.backup(target)  # pages=-1: one step, one snapshot
            target.execute("PRAGMA journal_mode = DELETE").fetchone()
            verdict = target.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise
            raise BackupError(_damaged(settings, str(exc))) from exc
        finally:
            target.close()
            source.close()
        if verdict != "ok":
            raise BackupError(_damaged(settings, f"the copy failed its check: {verdict}"))
        _fsync(partial)
        partial.rename(final)
        _fsync(folder)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    removed = tuple(prune_set(settings)) if rotate else ()
    return BackupInfo(final, final.stat().st_size, time.perf_counter() - t0, removed)


def _damaged(settings: Settings, detail: str) -> str:
    """A damaged database cannot be backed up; what it needs is a restore."""
    return (
        f"{settings.store.db} is damaged ({detail}), so no backup was taken; "
        f"{restore_advice(settings)}"
    )


def prune_set(settings: Settings) -> list[Path]:
    """Delete the oldest backups beyond ``backup_keep``; returns what went."""
    backups = list_backups(settings)
    doomed = backups[: max(0, len(backups) - settings.backup.keep)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def check_file(path: Path) -> None:
    """Raise BackupError unless ``path`` is an intact EdgeHub database."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchall()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    if verdict != [("ok",)]:
        lines = "; ".join(str(r[0]) for r in verdict[:5])
        raise BackupError(f"{path} failed integrity_check: {lines}")
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupError(f"{path} is not an EdgeHub database (no {', '.join(missing)})")


@dataclass(frozen=True, slots=True)
class RestoreInfo:
    source: Path
    safety_copy: Path | None
    hub_was_running: bool
    session_floor: int = 0  # new sessions (and so order names) start above this
    blind: bool = False  # the replaced database could not be read: floor is a guess


def restore(
    settings: Settings,
    source: Path,
    *,
    force: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> RestoreInfo:
    """Replace the live database's content with a backup's.

    The backup is proven first (integrity_check); the current database is
    itself backed up (label ``pre-restore``, outside the rotation) before it is
    overwritten. The copy goes through SQLite's backup API into the live file,
    so its WAL and other connections stay consistent.
    """
    check_file(source)  # refuses a missing file before anything is said or done
    say(f"checked {source} ({source.stat().st_size / 1e6:.1f} MB): intact")
    with occupancy.exclusive(settings, force=force) as busy:
        if settings.store.db.exists():
            say(f"keeping a copy of {settings.store.db} as it is now…")
        safety = _keep_current(settings) if settings.store.db.exists() else None
        say(f"copying {source.name} into {settings.store.db}…")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(settings.store.db, timeout=settings.store.db_busy_timeout_ms / 1000)
        try:
            before = _issued(dst) if safety is not None else order_names.Issued()
            src.backup(dst)
            verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
            src.close()
        if verdict != "ok":
            raise BackupError(f"the restored database failed integrity_check: {verdict}")
        floor = _carry_over(settings, before)
    return RestoreInfo(source, safety, busy, floor, before is None)


def _issued(conn: sqlite3.Connection) -> order_names.Issued | None:
    """The names the database about to be replaced issued; None if it cannot be read."""
    try:
        return order_names.issued(conn)
    except sqlite3.Error:  # missing tables, or the corruption the restore is for
        return None


def _carry_over(settings: Settings, before: order_names.Issued | None) -> int:
    """Bring the restored file's schema up to date and its name counters past ``before``."""
    from hub.db.connection import immediate, open_db
    from hub.db.migrations import migrate

    db = open_db(settings)
    try:
        migrate(db)
        with immediate(db):
            return order_names.carry_over(db.conn, before)
    finally:
        db.close()


def _keep_current(settings: Settings) -> Path:
    """Back up the database about to be replaced, and return where it went.

    A damaged one cannot go through SQLite's backup, and the restore is how an
    operator gets out of that: its files are moved aside as they are (label
    ``damaged``, outside the rotation), so the restore writes a new file.
    """
    try:
        return take_backup(settings, label="pre-restore", rotate=False).path
    except BackupError:
        if not _damaged_file(settings.store.db):
            raise
    folder = settings.backup_path
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")[:-3] + "Z"
    kept = folder / f"edgehub-{settings.store.code}-{stamp}-damaged.db"
    for suffix in ("", "-wal", "-shm"):
        part = settings.store.db.with_name(settings.store.db.name + suffix)
        if part.exists():
            part.rename(kept.with_name(kept.name + suffix))
    return kept


def _damaged_file(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return is_corruption(exc)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
