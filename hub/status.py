"""``edgehub status``: one readable screen about this hub, for the person at the box."""

from __future__ import annotations

import sqlite_utils
from rich.console import Console
from rich.table import Table

from hub import events
from hub.db.connection import open_db
from hub.db.migrations import pending
from hub.settings import Settings


def print_status(settings: Settings) -> int:
    console = Console()
    if not settings.db.exists():
        console.print(f"[red]no database at {settings.db}[/red]: run `edgehub demo` or `migrate`")
        return 1
    db = open_db(settings, readonly=True)
    table = Table(title=f"EdgeHub store '{settings.store}'", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row("database", str(settings.db))
    todo = pending(db)
    table.add_row("schema", "up to date" if not todo else f"{len(todo)} migration(s) pending")
    by_state = db.execute("SELECT state, COUNT(*) FROM orders GROUP BY state ORDER BY 1").fetchall()
    table.add_row("orders", ", ".join(f"{s}: {n}" for s, n in by_state) or "none")
    open_sessions = db.execute("SELECT COUNT(*) FROM pos_sessions WHERE state = 'open'").fetchone()
    table.add_row("open sessions", str(open_sessions[0]))
    head = events.head(db)
    table.add_row("event log head", str(head))
    for consumer, seq in sorted(events.cursors(db).items()):
        table.add_row(f"cursor {consumer}", f"{seq} ({head - seq} behind)")
    table.add_row("redis", settings.redis_url or "off (in-process cache)")
    table.add_row("mqtt", settings.mqtt_url or "off")
    table.add_row("odoo", settings.odoo_url or "not configured (sync idle)")
    _add_sync_rows(table, db, settings)
    console.print(table)
    return 0


def _add_sync_rows(table: Table, db: sqlite_utils.Database, settings: Settings) -> None:
    """What ``GET /api/v1/sync/status`` says, for the person at the box."""
    if pending(db):
        return  # the sync tables may not exist yet
    from cloud_sync import status as sync_status

    sync = sync_status.read(db, settings)
    remote = sync["remote"]
    reach = {True: "reachable", False: "unreachable", None: "not contacted"}[remote["reachable"]]
    table.add_row("sync", f"{sync['state']}, Odoo {remote['version'] or '?'} {reach}")
    table.add_row(
        "sync queue",
        f"{sync['pending']} pending, {sync['failed']} parked, lag {sync['lag_seconds']:.0f} s",
    )
    table.add_row("sync last success", sync["last_success_at"] or "never")
    if sync["last_error"]:
        table.add_row("sync last error", f"{sync['last_error_at']}: {_line(sync['last_error'])}")
    for item in sync["parked"][:20]:
        reason = _line(item["error"] or "")
        table.add_row(f"parked #{item['id']}", f"{item['kind']} of {item['order_name']}: {reason}")


def _line(text: str, limit: int = 400) -> str:
    """Odoo's messages run over several lines; a table cell wants one."""
    return " / ".join(part.strip() for part in text.splitlines() if part.strip())[:limit]
