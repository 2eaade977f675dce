"""The ``edgehub`` command: one entry point for every process and admin task.

``main()`` is the only place that reads the environment: it builds the
Settings once, sets up logging from them, warns about ``EDGEHUB_*`` names
that are not settings, and passes the Settings to whatever runs.

This is the top layer (the "entry", with ``hub.cli_catalog``): the one part
of ``hub`` that may import the web app and the two daemons, which it does
inside the command that runs them, so ``edgehub status`` starts no web
framework and no MQTT client. The core below imports neither (the layer
contract in pyproject.toml).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hub import settings_problems
from hub.auth.roles import Role
from hub.cli_catalog import add_commands as add_catalog_commands
from hub.cli_ops import add_commands as add_ops_commands
from hub.cli_ops import duration
from hub.db import readiness
from hub.db.readiness import Need
from hub.logs import get_logger, setup_logging
from hub.settings import Settings, load_settings, unknown_settings
from hub.version import VERSION

if TYPE_CHECKING:
    import sqlite_utils

Handler = Callable[[argparse.Namespace, Settings], int]
log = get_logger("edgehub.settings")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from hub.lan import reach_lines
    from hub.web.serve import run

    host, port = args.host or settings.server.host, args.port or settings.server.port
    workers = max(1, args.workers)
    print(
        f"EdgeHub serving store '{settings.store.code}' on http://{host}:{port} "
        f"(database {settings.store.db}, {workers} worker{'s' if workers > 1 else ''})",
        file=sys.stderr,
    )
    for line in reach_lines(settings, host, port):
        print(line, file=sys.stderr)
    run(settings, host=host, port=port, access_log=args.access_log, workers=workers)
    return 0


def worker_app() -> object:
    """The app of one worker of ``serve --workers N``.

    Each worker is a fresh process started by uvicorn, so it builds its own
    Settings from the environment it inherited, as ``main()`` did.
    """
    from hub.web.app import create_app
    from hub.web.realtime.fastpath import WebSocketFirst

    settings = load_settings()
    setup_logging(settings.logging.level, settings.logging.as_json)
    return WebSocketFirst(create_app(settings))


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from hub.db.connection import open_db
    from hub.db.migrations import migrate

    db = open_db(settings)
    applied = migrate(db)
    print(f"{settings.store.db}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from hub.db.connection import immediate, open_db
    from hub.db.migrations import migrate
    from hub.demo import load_demo

    db = open_db(settings)
    migrate(db)
    with immediate(db):
        counts = load_demo(db, pin_iterations=settings.auth.pin_hash_iterations)
    if getattr(args, "products", 0):
        counts.update(_demo_catalogue(db, args.products))
    print(
        f"demo store '{settings.store.code}' ready in {settings.store.db}: "
        + ", ".join(f"{n} {t}" for t, n in counts.items())
    )
    print("logins: admin/0000 (admin), marco/9999 (manager), ana/1234 (cashier), kitchen/5555")
    return 0


def _demo_catalogue(db: sqlite_utils.Database, count: int) -> dict[str, int]:
    """Load ``count`` generated products, showing progress; returns the new counts."""
    from hub.db.connection import immediate
    from hub.demo import load_catalogue
    from hub.progress import Steps

    with Steps("generating products", count) as steps, immediate(db):
        load_catalogue(db, count, progress=lambda done, _: steps.update(done))
    return {
        table: int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        for table in ("categories", "products")
    }


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    from hub.auth.users import add_user
    from hub.db.connection import immediate, open_db
    from hub.db.migrations import migrate

    pin = args.pin
    password = None
    db = open_db(settings)
    migrate(db)
    if not args.update and (refusal := _existing_user(db, args.login)):
        print(refusal, file=sys.stderr)
        return 2
    if pin is None:
        password = getpass.getpass(f"password for {args.login}: ")
    try:
        with immediate(db):
            user_id = add_user(
                db,
                login=args.login,
                name=args.name or args.login,
                role=args.role,
                pin=pin,
                password=password,
                iterations=settings.auth.pin_hash_iterations,
            )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.login} (id {user_id}, {args.role}) saved")
    return 0


def _existing_user(db: sqlite_utils.Database, login: str) -> str | None:
    """Why ``user add`` will not overwrite ``login`` without ``--update``; None if it is new."""
    row = db.execute("SELECT id, role, active FROM users WHERE login = ?", (login,)).fetchone()
    if row is None:
        return None
    state = "" if row[2] else ", disabled"
    return (
        f"error: user {login!r} already exists (id {row[0]}, {row[1]}{state}); "
        "nothing was changed. Pass --update to change their name, role or PIN"
    )


def cmd_user_list(args: argparse.Namespace, settings: Settings) -> int:
    from hub.db.connection import open_db

    db = open_db(settings, readonly=True)
    rows = db.execute(
        "SELECT login, name, role, active, pin_hash IS NOT NULL, password_hash IS NOT NULL "
        "FROM users ORDER BY active DESC, login"
    ).fetchall()
    print(f"{'login':<16} {'role':<8} {'state':<8} {'signs in with':<14} name")
    for login, name, role, active, pin, password in rows:
        how = "PIN" if pin else ("password" if password else "-")
        state = "active" if active else "disabled"
        print(f"{login:<16} {role:<8} {state:<8} {how:<14} {name}")
    print(f"{len(rows)} user(s)")
    return 0


def cmd_user_disable(args: argparse.Namespace, settings: Settings) -> int:
    from hub.auth.users import disable_user
    from hub.db.connection import immediate, open_db

    db = open_db(settings)
    with immediate(db):
        user_id = disable_user(db, args.login)
    if user_id is None:
        print(f"error: no user {args.login!r}", file=sys.stderr)
        return 2
    print(f"user {args.login} (id {user_id}) disabled; their tokens no longer work")
    return 0


def cmd_user_unlock(args: argparse.Namespace, settings: Settings) -> int:
    from hub.auth import checkpoint
    from hub.auth.throttle import LoginThrottle
    from hub.auth.users import SYSTEM
    from hub.db.connection import immediate, open_db

    throttle = LoginThrottle(
        settings.auth.login_max_failures,
        settings.auth.login_window_seconds,
        settings.auth.login_address_max_failures,
    )
    db = open_db(settings)
    with immediate(db):
        cleared = checkpoint.unlock(db, throttle, args.login, SYSTEM)
    if cleared is None:
        print(f"error: no user {args.login!r}", file=sys.stderr)
        return 2
    print(f"user {args.login} unlocked ({cleared} failed attempt(s) cleared); they may log in now")
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from hub.db.connection import open_db
    from hub.web.tokens import issue_token, make_jwt_auth

    db = open_db(settings)
    row = db.execute(
        "SELECT id, name, role FROM users WHERE login = ? AND active = 1", (args.login,)
    ).fetchone()
    if row is None:
        print(f"error: no active user {args.login!r}", file=sys.stderr)
        return 2
    from hub.auth.users import Actor

    actor = Actor(id=row[0], name=row[1], role=row[2])
    default_ttl = settings.auth.device_token_ttl_seconds if actor.role == Role.DEVICE else None
    ttl = args.ttl or default_ttl or settings.auth.token_ttl_seconds
    print(issue_token(make_jwt_auth(settings.with_jwt_secret()), actor, ttl))
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from cloud_sync.cli import run

    return run(args, settings)


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from hub.status import print_status

    return print_status(settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgehub", description="EdgeHub: the in-store hub for tills, kitchen and head office."
    )
    parser.add_argument("--version", action="version", version=f"edgehub {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the REST and WebSocket API")
    serve.add_argument(
        "--host",
        help="address to listen on (default EDGEHUB_HOST or 127.0.0.1, this PC only); "
        "0.0.0.0 for tills and tablets on the LAN",
    )
    serve.add_argument("--port", type=int, help="port (default EDGEHUB_PORT or 8000)")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes sharing the port and the database (default 1)",
    )
    serve.set_defaults(handler=cmd_serve)

    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(
        handler=cmd_migrate
    )
    demo = sub.add_parser("demo", help="load the demo store (idempotent)")
    demo.add_argument(
        "--products",
        type=int,
        default=0,
        metavar="N",
        help="also load N generated products (a large realistic catalogue; idempotent)",
    )
    demo.set_defaults(handler=cmd_demo)

    user = sub.add_parser("user", help="manage staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="add a user (or, with --update, change one)")
    add.add_argument("login")
    add.add_argument("--name")
    add.add_argument("--role", required=True, choices=list(Role))
    add.add_argument("--pin", help="4 to 8 digits; without it a password is asked for")
    add.add_argument(
        "--update", action="store_true", help="change a user who exists (else that is refused)"
    )
    add.set_defaults(handler=cmd_user_add)
    user_sub.add_parser("list", help="list staff accounts (no secrets)").set_defaults(
        handler=cmd_user_list
    )
    disable = user_sub.add_parser("disable", help="deactivate a user; their tokens stop working")
    disable.add_argument("login")
    disable.set_defaults(handler=cmd_user_disable)

    unlock = user_sub.add_parser(
        "unlock", help="let a login locked out by wrong PINs try again now (audited)"
    )
    unlock.add_argument("login")
    unlock.set_defaults(handler=cmd_user_unlock)

    token = sub.add_parser("token", help="print a bearer token for a user (for scripts, devices)")
    token.add_argument("login")
    token.add_argument(
        "--ttl",
        type=duration,
        help="lifetime: 3600, 90m, 12h, 30d (default: EDGEHUB_TOKEN_TTL_SECONDS, or "
        "EDGEHUB_DEVICE_TOKEN_TTL_SECONDS for a device user)",
    )
    token.set_defaults(handler=cmd_token)

    sub.add_parser("status", help="print the state of this hub").set_defaults(handler=cmd_status)
    add_ops_commands(sub)  # backup, restore, audit verify
    add_catalog_commands(sub)  # catalog import, export

    from firmware_bridge.commands import add_commands as add_kitchen_commands

    add_kitchen_commands(sub)  # bridge, printer, device add/list/remove/login

    from cloud_sync.cli import add_parser as add_sync_parser

    add_sync_parser(sub).set_defaults(handler=cmd_sync)

    from faultsuite.cli import add_parser as add_selftest_parser

    add_selftest_parser(sub)  # selftest: the fault suite on a temporary store of its own
    return parser


# What each command needs of the database (hub.db.readiness); the rest need Need.USE.
_NEEDS = {
    "serve": Need.SERVE,
    "migrate": Need.CREATE,
    "demo": Need.CREATE,
    "restore": Need.REPLACE,
    "printer": Need.NOTHING,  # reads a device's station only if the database is there
    "device login": Need.NOTHING,  # writes Mosquitto's files, not the database
    "selftest": Need.NOTHING,  # builds a temporary store of its own
}


def _command(args: argparse.Namespace) -> str:
    """``user add``, ``device login``: the words of the command as typed."""
    actions = ("user_command", "audit_command", "device_command", "sync_command")
    words = [args.command, *(getattr(args, name, None) for name in actions)]
    return " ".join(word for word in words if isinstance(word, str))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command, build the Settings once, check them and the database, run it.

    Every problem found before the command starts is one ``error:`` line on
    stderr naming the setting, and the exit status is 2: nothing was started
    and nothing was written.
    """
    args = build_parser().parse_args(argv)
    settings, problems, config = settings_problems.read(os.environ)
    if settings is not None:
        need = _NEEDS.get(_command(args), _NEEDS.get(args.command, Need.USE))
        problems = readiness.problems(settings, need)
    if problems or settings is None:
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        print(f"edgehub {_command(args)}: not started; nothing was changed", file=sys.stderr)
        return 2
    setup_logging(settings.logging.level, settings.logging.as_json)
    ignored = unknown_settings(os.environ, config)
    if ignored:
        # A warning, not an error: a name far from every setting may be another program's.
        log.warning("settings_ignored", names=ignored)
    handler: Handler = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
