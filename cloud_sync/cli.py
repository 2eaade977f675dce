"""``edgehub sync``: run the agent, catch up once, or put parked orders back in the queue.

edgehub sync               the agent (systemd: edgehub-sync.service)
edgehub sync --once        pull, push until caught up; exit 1 if anything is parked,
                           2 if Odoo stays unreachable (--timeout), 3 if it refuses
                           the credentials, configuration or catalogue pull, 4 if the
                           agent is running
edgehub sync retry ID      retry one parked item (ids as `edgehub status` lists them)
edgehub sync retry --all   retry every parked item
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hub.settings import Settings


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``sync`` on the ``edgehub`` sub-command parser."""
    sync = sub.add_parser("sync", help="sync with head office's Odoo (orders up, catalogue down)")
    sync.add_argument("--once", action="store_true", help="pull, push until caught up, then exit")
    sync.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="with --once: give up (exit 2) when Odoo stays unreachable this long",
    )
    actions = sync.add_subparsers(dest="sync_command", metavar="ACTION")
    retry = actions.add_parser("retry", help="put parked orders back in the queue")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, help="the parked item's id")
    which.add_argument("--all", action="store_true", help="every parked item")
    return sync


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Logging is set up by ``hub.cli.main`` from the same Settings."""
    if getattr(args, "sync_command", None) == "retry":
        return _retry(settings, args.id, every=args.all)
    if args.once:
        from rich.console import Console

        from cloud_sync.daemon import once

        return once(settings, Console(stderr=True), give_up_after=args.timeout)
    from cloud_sync.daemon import serve

    return serve(settings)


def _retry(settings: Settings, item_id: int | None, *, every: bool) -> int:
    from hub import sync_outbox
    from hub.db.connection import immediate, open_db
    from hub.db.migrations import migrate
    from hub.errors import HubError

    db = open_db(settings)
    migrate(db)
    try:
        with immediate(db):
            if every:
                count = sync_outbox.retry_all(db)
                print(f"{count} parked item(s) back in the queue")
            else:
                assert item_id is not None
                item = sync_outbox.retry(db, item_id)
                print(f"item {item['id']} ({item['kind']} of order {item['order_name']}) queued")
    except HubError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0
