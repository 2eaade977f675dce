"""The kitchen's ``edgehub`` subcommands: ``bridge``, ``printer`` and ``device``.

Registered on hub.cli's parser by ``add_commands`` so the kitchen's options live
beside the code they configure. Each handler gets the Settings ``main()`` built,
with logging already set up from them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hub.settings import Settings

if TYPE_CHECKING:
    from hub.instance import InstanceLock


ALREADY_RUNNING = 4  # as `edgehub sync --once` beside a running agent


def cmd_bridge(args: argparse.Namespace, settings: Settings) -> int:
    from firmware_bridge.bridge import run
    from firmware_bridge.claim import ClaimedElsewhere

    if _broker_unusable(settings):
        return 2
    lock = _single(settings, "bridge", f"the kitchen bridge of store {settings.store.code!r}")
    if lock is None:
        return ALREADY_RUNNING
    try:
        run(settings)
    except ClaimedElsewhere as exc:  # another database or box, seen on the broker
        print(
            f"error: {exc} (its claim on the broker, {exc.topic}). "
            "Only one may run per store: stop that one first, or leave it running; "
            "a second database for a store needs a store code of its own (EDGEHUB_STORE).",
            file=sys.stderr,
        )
        return ALREADY_RUNNING
    finally:
        lock.release()
    return 0


def _single(settings: Settings, name: str, what: str) -> InstanceLock | None:
    """Take this daemon's one-per-database lock, or say who holds it and return None."""
    from hub.instance import AlreadyRunning, InstanceLock, lock_path

    lock = InstanceLock(lock_path(settings, name), what)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(
            f"error: {what} already runs: {exc.holder.describe()} (lock {exc.path}). "
            "Only one may run per store: stop that one first, or leave it running.",
            file=sys.stderr,
        )
        return None
    return lock


def _broker_unusable(settings: Settings) -> bool:
    """Say why EDGEHUB_MQTT_URL (or, for mqtts, EDGEHUB_MQTT_CA_FILE) cannot work, once,
    instead of retrying forever."""
    from hub.broker_url import BadCaFile, broker

    if not settings.mqtt.url:
        print("error: EDGEHUB_MQTT_URL is empty: the kitchen needs a broker", file=sys.stderr)
        return True
    try:
        broker(settings.mqtt.url, settings.mqtt.ca_file)
    except BadCaFile as exc:
        print(f"error: EDGEHUB_MQTT_CA_FILE: {exc}", file=sys.stderr)
        return True
    except ValueError as exc:
        print(f"error: EDGEHUB_MQTT_URL: {exc}", file=sys.stderr)
        return True
    return False


def cmd_printer(args: argparse.Namespace, settings: Settings) -> int:
    from firmware_bridge.claim import ClaimedElsewhere
    from firmware_bridge.printer import PrinterConfig, run
    from firmware_bridge.printer_link import open_link

    station = args.station or _registered_station(settings, args.device)
    if station is None:
        print(
            f"error: device {args.device!r} is not registered; "
            "run `edgehub device add` or pass --station",
            file=sys.stderr,
        )
        return 2
    try:
        open_link(args.connect)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if _broker_unusable(settings):
        return 2
    lock = _single(settings, f"printer-{args.device}", f"the printer adapter of {args.device!r}")
    if lock is None:
        return ALREADY_RUNNING
    config = PrinterConfig(
        device=args.device,
        station=station,
        target=args.connect,
        columns=args.columns,
        status_interval=args.status_interval,
        seen_path=args.seen,
    )
    try:
        run(settings, config)
    except ClaimedElsewhere as exc:  # another database or box, seen on the broker
        print(
            f"error: {exc} (its status on the broker, {exc.topic}). "
            "Only one may run per device: stop that one first, or leave it running.",
            file=sys.stderr,
        )
        return ALREADY_RUNNING
    finally:
        lock.release()
    return 0


def _registered_station(settings: Settings, device: str) -> str | None:
    from hub.db.connection import open_db
    from hub.devices import station_of

    if not settings.store.db.exists():
        return None
    db = open_db(settings, readonly=True)
    try:
        return station_of(db, device)
    finally:
        db.close()


def cmd_device_add(args: argparse.Namespace, settings: Settings) -> int:
    from hub.db.connection import immediate, open_db
    from hub.db.migrations import migrate
    from hub.devices import add_device, known_stations
    from hub.mqtt_topics import is_name

    db = open_db(settings)
    migrate(db)
    stations = known_stations(db)
    if is_name(args.station) and args.station not in stations and not args.new_station:
        print(
            f"error: no product goes to station {args.station!r} and no device serves it "
            f"(stations here: {', '.join(stations) or 'none'}); nothing was changed. "
            "Check the spelling, or pass --new-station for a station no product uses yet",
            file=sys.stderr,
        )
        return 2
    try:
        with immediate(db):
            new = add_device(db, args.id, station=args.station, role=args.role, kind=args.kind)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verb = "added" if new else "updated"
    print(f"device {args.id} {verb}: {args.kind}, {args.role} on station {args.station}")
    return 0


def cmd_device_list(args: argparse.Namespace, settings: Settings) -> int:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from hub.clock import ago
    from hub.db.connection import open_db
    from hub.db.migrations import migrate
    from hub.devices import list_devices

    db = open_db(settings)
    migrate(db)
    # Fits 80 columns with 24-character ids: the console of the store's PC.
    table = Table(title="Kitchen devices", box=box.SIMPLE_HEAD, show_edge=False, padding=0)
    for column in ("id", "station", "kind", "role", "up", "state", "seen", "jobs"):
        table.add_column(column, no_wrap=column != "id", overflow="fold")
    for d in list_devices(db):
        state = _device_state(d)
        table.add_row(
            d["id"],
            d["station"],
            d["kind"],
            d["role"],
            "yes" if d["online"] else "[red]no[/red]",
            state if state in ("ok", "-") else f"[yellow]{state}[/yellow]",
            ago(d["last_seen"]).removesuffix(" ago"),
            str(d["pending_jobs"]),
        )
    Console(width=max(80, Console().width)).print(table)
    return 0


def _device_state(device: dict[str, object]) -> str:
    """What keeps a device from printing, in a few words; ``ok`` when nothing does, ``-``
    when it never said."""
    paper_out = device["paper"] not in (None, "ok")
    cover_open = device["cover"] == "open"
    if paper_out and cover_open:
        return "no paper+cover"
    if paper_out:
        return "no paper" if device["paper"] == "out" else f"paper {device['paper']}"
    if cover_open:
        return "cover open"
    if device["error"]:
        return str(device["error"])[:14]
    return "-" if device["paper"] is None else "ok"


def cmd_device_remove(args: argparse.Namespace, settings: Settings) -> int:
    from hub.db.connection import immediate, open_db
    from hub.db.migrations import migrate
    from hub.devices import remove_device

    db = open_db(settings)
    migrate(db)
    with immediate(db):
        removed = remove_device(db, args.id)
    if not removed:
        print(f"error: no device {args.id!r}", file=sys.stderr)
        return 2
    print(f"device {args.id} removed")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``bridge``, ``printer`` and ``device`` to the ``edgehub`` parser."""
    bridge = sub.add_parser("bridge", help="run the kitchen bridge (MQTT jobs, acks, bumps)")
    bridge.set_defaults(handler=cmd_bridge)

    printer = sub.add_parser("printer", help="drive an ESC/POS printer as an MQTT kitchen device")
    printer.add_argument("--device", required=True, help="the device id (its MQTT login)")
    printer.add_argument(
        "--connect",
        required=True,
        metavar="TARGET",
        help="tcp://HOST[:PORT] (port 9100 by default) or file:PATH (a file or /dev/usb/lp0)",
    )
    printer.add_argument(
        "--station", help="the station whose jobs to print (default: the device's registration)"
    )
    printer.add_argument("--columns", type=int, default=42, help="characters per line (42)")
    printer.add_argument(
        "--status-interval",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how often to ask the printer for paper and cover status (10)",
    )
    printer.add_argument(
        "--seen",
        type=Path,
        metavar="PATH",
        help="where to remember printed jobs (default: printer-<device>.seen.db beside the DB)",
    )
    printer.set_defaults(handler=cmd_printer)

    device = sub.add_parser("device", help="register kitchen devices (printers, KDS)")
    device_sub = device.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    add = device_sub.add_parser("add", help="register a device, or change one")
    add.add_argument("id", help="device id = its MQTT login (letters, digits, _ and -)")
    add.add_argument("--station", required=True)
    add.add_argument("--role", choices=["primary", "backup"], default="primary")
    add.add_argument("--kind", choices=["printer", "kds"], default="printer")
    add.add_argument(
        "--new-station",
        action="store_true",
        help="accept a station no product and no device uses yet (else refused as a typo)",
    )
    add.set_defaults(handler=cmd_device_add)
    device_sub.add_parser("list", help="show devices and their status").set_defaults(
        handler=cmd_device_list
    )
    remove = device_sub.add_parser("remove", help="forget a device")
    remove.add_argument("id")
    remove.set_defaults(handler=cmd_device_remove)
    from hub.cli_ops import add_device_login_command

    add_device_login_command(device_sub)  # device login: its MQTT password and ACL
