"""``edgehub status``: one readable screen about this hub, for the person at the box.

It reads the database read-only (safe beside a running hub) and knocks once on
Redis and the broker; nothing here changes anything.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import sqlite_utils
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hub import backup, faults, instance, lan, snapshot
from hub import sync_status as agent_status
from hub.broker_url import broker
from hub.clock import ago, span
from hub.db.connection import open_db
from hub.db.migrations import pending
from hub.settings import Settings

PROBE_TIMEOUT_SECONDS = 0.3
# What hub.sync_status.read needs beyond the core schema (migration 0004_sync).
SYNC_TABLES = ("sync_agent", "sync_outbox")


def _reachable(url: str | None, default_port: int) -> str:
    if not url:
        return "off"
    parts = urlsplit(url)
    return _knock(parts.hostname or "127.0.0.1", parts.port or default_port)


def _broker(settings: Settings) -> str:
    """The broker as the kitchen reaches it; for ``mqtts`` the certificate is verified too."""
    if not settings.mqtt.url:
        return "off"
    try:
        url, context = broker(settings.mqtt.url, settings.mqtt.ca_file)
    except ValueError as exc:  # a bad URL, or BadCaFile
        return f"[red]unusable[/red] ({escape(str(exc))})"
    return _knock(url.host, url.port, context)


def _knock(host: str, port: int, context: ssl.SSLContext | None = None) -> str:
    where = f"{host}:{port}" + (", TLS" if context is not None else "")
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_SECONDS) as sock:
            if context is not None:
                context.wrap_socket(sock, server_hostname=host).close()
    except ssl.SSLError as exc:
        return f"[red]down[/red] ({where}: {escape(str(exc))})"
    except OSError:
        return f"[red]down[/red] ({where})"
    return f"ok ({where})"


def _counts(values: dict[str, int]) -> str:
    return ", ".join(f"{k}: {n}" for k, n in sorted(values.items())) or "none"


def _summary(settings: Settings, snap: snapshot.Snapshot, db: sqlite_utils.Database) -> Table:
    table = Table(title=f"EdgeHub store '{settings.store.code}'", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    size = settings.store.db.stat().st_size
    table.add_row("database", f"{settings.store.db} ({size / 1e6:.1f} MB)")
    table.add_row("tills reach it at", lan.reach_short(settings))
    todo = pending(db)
    table.add_row("schema", "up to date" if not todo else f"{len(todo)} migration(s) pending")
    table.add_row("orders", _counts(snap.orders_by_state))
    table.add_row("open sessions", str(snap.open_sessions))
    oldest = snap.events_oldest if snap.events_oldest is not None else "-"
    table.add_row("event log head", f"{snap.events_head} (oldest kept {oldest})")
    for consumer, seq in sorted(snap.cursors.items()):
        table.add_row(f"cursor {consumer}", f"{seq} ({snap.events_head - seq} behind)")
    table.add_row("kitchen jobs", _counts(snap.kitchen_jobs))
    table.add_row("devices", f"{snap.devices_online} online of {snap.devices_total}")
    table.add_row("audit trail", f"{snap.audit_rows} rows, head {snap.audit_head[:16]}…")
    backups = backup.list_backups(settings)
    if backups:
        age = span(time.time() - backups[-1].stat().st_mtime)
        table.add_row("backups", f"{len(backups)} in {settings.backup_path}, newest {age} old")
    else:
        table.add_row("backups", f"[yellow]none yet[/yellow] in {settings.backup_path}")
    table.add_row("redis", _reachable(settings.redis.url, 6379))
    table.add_row("mqtt", _broker(settings))
    table.add_row("odoo", settings.odoo.url or "not configured (sync idle)")
    _add_sync_rows(table, db, settings, snap)
    return table


def _jobs(snap: snapshot.Snapshot) -> Table:
    table = Table(title="periodic jobs (edgehub serve)")
    for column in ("job", "every", "last run", "outcome", "took", "note / error"):
        table.add_column(column)
    for row in snap.jobs:
        outcome = row["outcome"] or "-"
        if outcome == "error":
            outcome = f"[red]error[/red] ({row['failures']} failed)"
        took = f"{row['duration_ms']:.0f} ms" if row["duration_ms"] is not None else "-"
        note = row["error"] or row["note"] or ""
        table.add_row(
            row["name"],
            span(row["interval_seconds"]),
            ago(row["started_at"]),
            outcome,
            took,
            note[:60],
        )
    if not snap.jobs:
        table.add_row("-", "-", "no hub has run yet", "-", "-", "")
    return table


def print_status(settings: Settings) -> int:
    console = Console()
    if not settings.store.db.exists():
        console.print(
            f"[red]no database at {settings.store.db}[/red]: run `edgehub demo` or `migrate`"
        )
        return 1
    db = open_db(settings, readonly=True)
    snap = snapshot.read(db)
    summary = _summary(settings, snap, db)
    _add_process_rows(summary, settings)
    _add_fault_rows(summary, settings, db)
    console.print(summary)
    console.print(_jobs(snap))
    return 0


def _add_process_rows(table: Table, settings: Settings) -> None:
    """Which EdgeHub processes run on this database, with their versions."""
    table.add_row("serve process", _serve_state(settings))
    for name in ("bridge", "sync"):
        holder = instance.running(instance.lock_path(settings, name))
        table.add_row(f"{name} process", _holder_state(holder))
    prefix = f"{settings.store.db.name}.printer-"
    adapters = sorted(settings.store.db.parent.glob(f"{prefix}*.lock"))
    for path in adapters:
        device = path.name[len(prefix) : -len(".lock")]
        table.add_row(f"printer {device}", _holder_state(instance.running(path)))


def _holder_state(holder: instance.Holder | None) -> str:
    if holder is None:
        return "[yellow]not running[/yellow]"
    return (
        f"[green]running[/green]: EdgeHub {holder.version}, pid {holder.pid}, since {holder.since}"
    )


def _serve_state(settings: Settings) -> str:
    """``serve`` keeps no lock file (its workers share one port): ask its /health."""
    host = "127.0.0.1" if settings.server.host in lan.ALL else settings.server.host
    url = f"http://{host}:{settings.server.port}/health"
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_SECONDS * 3) as answer:
            body = json.load(answer)
    except urllib.error.HTTPError as exc:
        return f"[red]answering {exc.code}[/red] at {url}"
    except (OSError, ValueError):
        return f"[yellow]not answering[/yellow] at {url}"
    return f"[green]running[/green]: EdgeHub {body.get('version', '?')}, {body.get('status')}"


def _add_fault_rows(table: Table, settings: Settings, db: sqlite_utils.Database) -> None:
    """The faults /health lists (hub.faults), with Redis knocked on from here."""
    redis = None
    if settings.redis.url:
        knocked = _reachable(settings.redis.url, 6379)
        redis = ("ok" if knocked.startswith("ok") else "down", None)
    found = faults.with_known_since(db, faults.detect(db, settings, redis=redis))
    for fault in found:
        colour = "red" if fault.level >= logging.ERROR else "yellow"
        since = faults.since_text(fault.since)
        key = f"[{colour}]{fault.key}[/{colour}]"
        table.add_row(f"[{colour}]fault[/{colour}]", f"{key}: {escape(fault.what)} ({since})")
    if not found:
        table.add_row("faults", "[green]none[/green]")


def _add_sync_rows(
    table: Table, db: sqlite_utils.Database, settings: Settings, snap: snapshot.Snapshot
) -> None:
    """What ``GET /api/v1/sync/status`` says, with the verdict ``/health`` gives, for the
    person at the box.

    Shown whenever the sync tables exist, pending migrations or not: a box
    upgraded but not yet migrated is when its sync is most worth a look.
    """
    if not set(SYNC_TABLES) <= set(db.table_names()):
        table.add_row("sync", "[yellow]unknown[/yellow]: no sync tables yet (`edgehub migrate`)")
        return
    sync = agent_status.read(db, settings)
    verdict = agent_status.verdict(sync, settings)
    colour = {"lagging": "red", "ok": "green"}.get(verdict, "dim")
    remote = sync["remote"]
    reach = {True: "reachable", False: "unreachable", None: "not contacted"}[remote["reachable"]]
    table.add_row(
        "sync",
        f"[{colour}]{verdict}[/{colour}]: agent {sync['state']}, "
        f"Odoo {remote['version'] or '?'} {reach}",
    )
    table.add_row(
        "sync queue",
        f"{sync['unread_events']} events unread, {sync['pending']} pending, "
        f"{sync['failed']} parked, lag {span(sync['lag_seconds'])}; "
        f"orders {_counts(snap.orders_by_sync_state)}",
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
