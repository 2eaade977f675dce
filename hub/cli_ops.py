"""The operator's commands of ``edgehub``: backup, restore, audit verify, device login.

Kept apart from ``hub.cli`` so each stays small; ``hub.cli.build_parser`` calls
``add_commands`` once. ``device login`` hangs under the kitchen's ``device``
command (``firmware_bridge.commands``): registering a device for a station and
giving it an MQTT login are two steps an operator takes together.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from hub.settings import Settings

_DURATION = re.compile(r"^(?P<n>\d+)(?P<unit>[smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int:
    """``3600``, ``90m``, ``12h`` or ``30d`` as seconds (an argparse type)."""
    match = _DURATION.match(text.strip())
    if not match or int(match["n"]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 3600, 90m, 12h, 30d")
    return int(match["n"]) * _UNITS[match["unit"]]


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from hub.backup import BackupError, take_backup
    from hub.progress import note

    if settings.store.db.exists():
        size = settings.store.db.stat().st_size / 1e6
        note(f"backing up {settings.store.db} ({size:.1f} MB) into {settings.backup_path}…")
    try:
        info = take_backup(settings)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"backup {info.path} ({info.size} bytes in {info.seconds:.2f}s)")
    for path in info.removed:
        print(f"removed {path.name} (keeping {settings.backup.keep})")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from hub.backup import BackupError, restore
    from hub.db.occupancy import InUse
    from hub.progress import note

    try:
        info = restore(settings, Path(args.file), force=args.force, say=note)
    except InUse as exc:
        print(
            f"error: {exc}; stop it first (systemctl stop edgehub.target) or pass --force",
            file=sys.stderr,
        )
        return 2
    except BackupError as exc:
        print(f"error: {exc}; nothing was changed", file=sys.stderr)
        return 1
    print(f"restored {settings.store.db} from {info.source}")
    if info.blind:
        print(
            f"the database it replaced could not be read: new sessions start at "
            f"{info.session_floor + 1}, well above the backup's, so no order name repeats"
        )
    elif info.session_floor:
        print(
            f"order names continue past those already issued: new sessions start at "
            f"{info.session_floor + 1}"
        )
    if info.safety_copy:
        print(f"the database as it was is kept in {info.safety_copy}")
    if info.hub_was_running:
        print("a hub was running on it: restart it now (systemctl restart edgehub.target)")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from hub.audit import chain
    from hub.db.connection import open_db

    if not settings.store.db.exists():
        print(f"error: no database at {settings.store.db}", file=sys.stderr)
        return 2
    verdict = chain.verify(open_db(settings, readonly=True))
    if verdict.ok:
        print(f"audit trail intact: {verdict.rows} rows, head {verdict.head}")
        return 0
    print(
        f"audit trail BROKEN at row {verdict.broken_id}: {verdict.reason} "
        f"({verdict.rows} rows before it verified, last good hash {verdict.head})"
    )
    return 1


def cmd_device_add(args: argparse.Namespace, settings: Settings) -> int:
    from hub.mqtt_credentials import CredentialError, Device, add_device

    try:
        device = Device(args.device_id, args.kind, args.station)
        password = add_device(
            settings.store.code, device, passwd_file=args.passwd_file, acl_file=args.acl_file
        )
    except (CredentialError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"device {device.id} ({device.kind}) may now log in to MQTT")
    print(f"username: {device.id}")
    print(f"password: {password}")
    print("the password is shown once; configure the device with it now.")
    print("then: systemctl reload mosquitto.service")
    return 0


def add_device_login_command(
    device_sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """``edgehub device login ID``: attached under the kitchen's ``device`` command."""
    from hub.mqtt_credentials import DEFAULT_ACL_FILE, DEFAULT_PASSWD_FILE, KINDS

    login = device_sub.add_parser(
        "login", help="give a device its MQTT login and ACL (again: a new password)"
    )
    login.add_argument("device_id", metavar="ID", help="the device id, also its MQTT username")
    login.add_argument("--station", help="kitchen station (not for a board)")
    login.add_argument("--kind", choices=KINDS, default="kds", help="default: kds")
    login.add_argument("--passwd-file", type=Path, default=DEFAULT_PASSWD_FILE)
    login.add_argument("--acl-file", type=Path, default=DEFAULT_ACL_FILE)
    login.set_defaults(handler=cmd_device_add)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("backup", help="back up the database now (safe while serving)").set_defaults(
        handler=cmd_backup
    )
    restore = sub.add_parser("restore", help="replace the database with a backup")
    restore.add_argument("file", help="a backup file (edgehub backup makes them)")
    restore.add_argument(
        "--force", action="store_true", help="even while a hub has the database open"
    )
    restore.set_defaults(handler=cmd_restore)

    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_sub.add_parser(
        "verify", help="prove the hash chain, or name the first broken row (exit 1)"
    ).set_defaults(handler=cmd_audit_verify)
