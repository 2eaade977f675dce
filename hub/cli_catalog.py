"""``edgehub catalog``: the catalogue from the command line (import, export, add, edit).

``catalog product add|edit``, ``catalog category add``, ``catalog tax add`` print
the record written as JSON (or ``error: ...`` and exit 1), like the API answers.

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
            db, Money(settings.rules.currency_digits), source, apply=args.apply,
            odoo=settings.odoo.url is not None, progress=progress,
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
        rows = list(export_rows(db, Money(settings.rules.currency_digits)))
    finally:
        db.close()
    if args.file == "-":
        write_csv(rows, sys.stdout)
    else:
        with open(args.file, "w", encoding="utf-8", newline="") as out:
            count = write_csv(rows, out)
        print(f"{count:,} products written to {args.file}")
    return 0


def _write(settings: Settings, fn: Any, *args: Any, **kwargs: Any) -> int:
    """Run one management write in a transaction; print its record or the error."""
    import json

    import msgspec

    from hub.db.connection import immediate
    from hub.errors import HubError

    db = _open(settings)
    try:
        with immediate(db):
            out = fn(db, *args, **kwargs)
    except HubError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.close()
    # A product is a Struct, a category or tax a dict: both print as the API answers them.
    print(json.dumps(msgspec.to_builtins(out), ensure_ascii=False))
    return 0


def _product_values(args: argparse.Namespace, settings: Settings, db: Any) -> dict[str, Any]:
    """The product fields given on the command line, as ``ProductInput`` names."""
    from hub.errors import ValidationFailed
    from hub.orders.money import Money

    values: dict[str, Any] = {}
    if args.name is not None:
        values["name"] = args.name
    if args.price is not None:
        try:
            values["price"] = Money(settings.rules.currency_digits).parse(args.price)
        except ValueError as exc:
            raise ValidationFailed(f"price: {exc}", {"fields": {"price": "invalid"}}) from exc
    for key, value in (("barcode", args.barcode), ("default_code", args.code),
                       ("station", args.station)):  # fmt: skip
        if value is not None:
            values[key] = value or None  # '' clears
    if args.category is not None:
        row = db.execute("SELECT id FROM categories WHERE name = ?", (args.category,)).fetchone()
        if args.category and row is None:
            raise ValidationFailed(
                f"category {args.category!r} does not exist", {"fields": {"category": "unknown"}}
            )
        values["category_id"] = row[0] if row else None
    if args.tax is not None:
        ids = []
        for name in args.tax:
            row = db.execute("SELECT id FROM taxes WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise ValidationFailed(f"tax {name!r} does not exist", {"fields": {"tax": name}})
            ids.append(row[0])
        values["tax_ids"] = tuple(ids)
    if args.stock is not None:
        values.update(stock_tracked=args.stock != "", qty_available=args.stock or None)
    if args.available is not None:
        values["active"] = args.available == "yes"
    return values


def cmd_product_add(args: argparse.Namespace, settings: Settings) -> int:
    from hub.catalog import management
    from hub.catalog.edits import ProductInput
    from hub.orders.money import Money

    def add(db: Any) -> Any:
        item = ProductInput(**_product_values(args, settings, db))
        money = Money(settings.rules.currency_digits)
        odoo = settings.odoo.url is not None
        return management.create_product(db, money, item, odoo=odoo).product

    return _write(settings, add)


def cmd_product_edit(args: argparse.Namespace, settings: Settings) -> int:
    from hub.catalog import management
    from hub.orders.money import Money

    def edit(db: Any) -> Any:
        values = _product_values(args, settings, db)
        money = Money(settings.rules.currency_digits)
        odoo = settings.odoo.url is not None
        return management.edit_product(db, money, args.id, values, odoo=odoo).product

    return _write(settings, edit)


def cmd_category_add(args: argparse.Namespace, settings: Settings) -> int:
    from hub.catalog import management

    def add(db: Any) -> Any:
        category_id, _ = management.create_category(db, args.name, sequence=args.sequence)
        return {"id": category_id, "name": " ".join(args.name.split())}

    return _write(settings, add)


def cmd_tax_add(args: argparse.Namespace, settings: Settings) -> int:
    from hub.catalog import management
    from hub.catalog.management import TaxInput

    def add(db: Any) -> Any:
        return management.create_tax(db, TaxInput(args.name, args.percent, args.included))[0]

    return _write(settings, add)


def _product_options(parser: argparse.ArgumentParser, *, new: bool) -> None:
    if new:
        parser.add_argument("name")
        parser.add_argument("price", help="a decimal amount, e.g. 4.50")
    else:
        parser.add_argument("id", type=int)
        parser.add_argument("--name")
        parser.add_argument("--price", help="a decimal amount, e.g. 4.50")
    parser.add_argument("--barcode", help="'' to clear")
    parser.add_argument("--code", help="internal reference ('' to clear)")
    parser.add_argument("--category", help="a category's name ('' for none)")
    parser.add_argument("--tax", action="append", help="a tax's name (repeat for several)")
    parser.add_argument("--station", help="kitchen station ('' for none: a retail item)")
    parser.add_argument("--stock", help="track stock, with this quantity on hand ('' stops)")
    parser.add_argument("--available", choices=["yes", "no"])


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = sub.add_parser(
        "catalog", help="keep the catalogue: products, categories, taxes, CSV import and export"
    )
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
    product = actions.add_parser("product", help="add or edit a product")
    verbs = product.add_subparsers(dest="product_command", required=True, metavar="ACTION")
    add = verbs.add_parser("add", help="add a product of this store (local_only)")
    _product_options(add, new=True)
    add.set_defaults(handler=cmd_product_add)
    edit = verbs.add_parser("edit", help="change a product's fields")
    _product_options(edit, new=False)
    edit.set_defaults(handler=cmd_product_edit)
    category = actions.add_parser("category", help="add a category")
    category.add_argument("action", choices=["add"])
    category.add_argument("name")
    category.add_argument("--sequence", type=int, default=0)
    category.set_defaults(handler=cmd_category_add)
    tax = actions.add_parser("tax", help="add a tax")
    tax.add_argument("action", choices=["add"])
    tax.add_argument("name")
    tax.add_argument("percent", help="e.g. 5.5")
    tax.add_argument("--included", action="store_true", help="included in the price")
    tax.set_defaults(handler=cmd_tax_add)
