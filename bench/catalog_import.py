"""``python -m bench.catalog_import``: ``edgehub catalog import`` of 10,000 rows.

Builds the demo store, writes a CSV of ``--rows`` generated products
(``hub.catalog.sample``: names, prices, EAN-13 barcodes, references,
categories, a tax, stations, stock), then times the ``edgehub catalog import``
command itself (a process of its own, as an operator runs it): the dry run, the
import with ``--apply``, and the same file again (every row an update). Beside
it, the baseline: the same products through ``edits.insert_products``, the
bulk loader of ``edgehub demo`` (no per-row checks against existing products,
no savepoints), in one transaction. Target: 10,000 rows in under 10 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.workload import hub_env
from hub.catalog import edits, management
from hub.catalog.edits import ProductInput
from hub.catalog.importer import COLUMNS
from hub.catalog.sample import CATEGORIES, generate
from hub.db.connection import immediate, open_db
from hub.db.migrations import migrate
from hub.demo import load_demo
from hub.settings import Settings

TAX = "Sales tax 8%"  # one of the demo's


def demo_db(path: Path) -> Settings:
    settings = Settings(db=path, pin_hash_iterations=1000, mqtt_url="", db_synchronous="NORMAL")
    db = open_db(settings)
    migrate(db)
    with immediate(db):
        load_demo(db, pin_iterations=1000)
        for name in CATEGORIES:
            management.create_category(db, name)
    db.close()
    return settings


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for p in generate(rows):
            writer.writerow(
                {
                    "name": p.name,
                    "price": f"{p.price / 100:.2f}",
                    "barcode": p.barcode,
                    "default_code": p.default_code,
                    "category": p.category,
                    "taxes": TAX,
                    "station": p.station or "",
                    "stock_tracked": "yes" if p.stock_tracked else "no",
                    "qty_available": "" if p.qty is None else str(p.qty),
                    "available": "yes",
                }
            )


def run(settings: Settings, *args: str) -> tuple[float, str]:
    env = hub_env(
        EDGEHUB_DB=str(settings.store.db), EDGEHUB_MQTT_URL="", EDGEHUB_LOG_LEVEL="warning"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "catalog", "import", *args],
        env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr)
    last = done.stdout.strip().splitlines()[-1]
    # Text mode reads the progress line's carriage returns as line ends.
    progress = done.stderr.strip().splitlines()[-1].strip()
    return seconds, f"{last}   [progress: {progress}]"


def baseline(path: Path, rows: int) -> float:
    settings = demo_db(path)
    db = open_db(settings)
    category = dict(db.execute("SELECT name, id FROM categories").fetchall())
    items = [
        ProductInput(
            name=p.name, price=p.price, barcode=p.barcode, default_code=p.default_code,
            category_id=category[p.category], station=p.station, stock_tracked=p.stock_tracked,
            qty_available=None if p.qty is None else str(p.qty), tax_ids=(2,),
        )
        for p in generate(rows)
    ]  # fmt: skip
    started = time.perf_counter()
    with immediate(db):
        edits.insert_products(db, items)
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.catalog_import", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="edgehub-import-"))
    try:
        print(f"edgehub catalog import: {args.rows:,} rows, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        settings = demo_db(workdir / "edgehub.db")
        csv_path = workdir / "products.csv"
        write_file(csv_path, args.rows)
        for label, extra in (
            ("dry run", ()),
            ("--apply (all new)", ("--apply",)),
            ("--apply again (all updates)", ("--apply",)),
        ):
            seconds, said = run(settings, str(csv_path), *extra)
            print(f"  {label:<30} {seconds:6.2f} s   {said}")
        base = baseline(workdir / "baseline.db", args.rows)
        print(f"  {'baseline: insert_products':<30} {base:6.2f} s   (in process, one transaction)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
