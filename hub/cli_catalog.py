"""``edgehub catalog``: the catalogue from the command line (import, export, add, edit).

Kept apart from ``hub.cli``; ``build_parser`` calls ``add_commands`` once.
Every write goes through ``hub.catalog.management`` in one transaction with its
``catalog.updated`` event, so a running hub's caches and tills follow within a
tail interval, exactly as after an API write.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from hub.settings import Settings


def _open(settings: Settings) -> Any:
    from hub.db.connection import open_db
    from hub.db.migrations import migrate

    db = open_db(settings)
    migrate(db)
    return db


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from hub.catalog.importer import import_csv, read_text
    from hub.orders.money import Money

    path = Path(args.file)
    try:
        source = read_text(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"\r  {done:,}/{total:,} rows", end="", file=sys.stderr, flush=True)

    db = _open(settings)
    try:
        report = import_csv(
            db, Money(settings.currency_digits), source, apply=args.apply,
            odoo=settings.odoo_url is not None, progress=progress,
        )  # fmt: skip
    finally:
        db.close()
    print(file=sys.stderr)
    for rejected in report.rejected:
        print(f"{path.name}:{rejected.line}: {rejected.message}")
    seconds = time.perf_counter() - started
    summary = f"{report.rows:,} rows: {report.created:,} new, {report.updated:,} updated"
    if report.rejected:
        print(
            f"{summary}, {len(report.rejected):,} rejected; nothing was changed ({seconds:.1f} s)"
        )
        return 1
    if not report.applied:
        print(f"{summary} (dry run, nothing was changed; --apply to import) ({seconds:.1f} s)")
        return 0
    print(f"{summary}: imported as event {report.seq} ({seconds:.1f} s)")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from hub.catalog.importer import export_rows, write_csv
    from hub.orders.money import Money

    db = _open(settings)
    try:
        rows = list(export_rows(db, Money(settings.currency_digits)))
    finally:
        db.close()
    if args.file == "-":
        write_csv(rows, sys.stdout)
    else:
        with open(args.file, "w", encoding="utf-8", newline="") as out:
            count = write_csv(rows, out)
        print(f"{count:,} products written to {args.file}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = sub.add_parser("catalog", help="import or export the catalogue as CSV")
    actions = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    imp = actions.add_parser(
        "import",
        help="import products from a CSV file (a dry run unless --apply; all or nothing)",
    )
    imp.add_argument("file", help="CSV with a header row: name,price,barcode,... (see docs)")
    imp.add_argument("--apply", action="store_true", help="write the changes (default: dry run)")
    imp.set_defaults(handler=cmd_import)
    exp = actions.add_parser("export", help="write every product to a CSV file ('-': stdout)")
    exp.add_argument("file")
    exp.set_defaults(handler=cmd_export)
