"""``edgehub selftest``: the fault suite, short, on the box a store is about to open with.

It builds a store of its own in a temporary directory (database, a private
Mosquitto and Redis on free ports, an Odoo emulator), sells under every kind
of fault, prints the ledger table and exits 1 on any loss or duplicate. The
box's own database, broker, Redis and settings are not used or touched:
``EDGEHUB_*`` variables are not passed to the programs it starts.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from hub.settings import Settings


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``selftest`` on the ``edgehub`` sub-command parser."""
    p = sub.add_parser(
        "selftest",
        help="prove this box runs a whole store: a short fault suite on a temporary store",
    )
    p.add_argument("--orders", type=positive, default=200, help="orders to sell (default 200)")
    p.add_argument(
        "--faults",
        type=non_negative,
        default=12,
        help="faults to inject (default 12: each kind once)",
    )
    p.add_argument("--tills", type=positive, default=3, help="tills selling at once (default 3)")
    p.add_argument("--seed", type=int, default=1, help="the fault schedule's seed (default 1)")
    p.add_argument(
        "--keep", action="store_true", help="keep the temporary store (logs, database) after it"
    )
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace, settings: Settings) -> int:
    from faultsuite.run import run_suite

    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        print(
            "error: selftest needs mosquitto installed (apt-get install mosquitto)", file=sys.stderr
        )
        return 2
    with_redis = shutil.which("redis-server") is not None
    if not with_redis:
        print("redis-server is not installed: the test store runs without Redis")
    workdir = None
    if args.keep:
        import tempfile

        workdir = Path(tempfile.mkdtemp(prefix="edgehub-selftest-"))
    try:
        outcome = run_suite(
            orders=args.orders,
            faults=args.faults,
            tills=args.tills,
            seed=args.seed,
            workdir=workdir,
            with_redis=with_redis,
        )
    except RuntimeError as exc:  # a program would not start, a till was refused, ...
        print(f"selftest FAILED: {exc}", file=sys.stderr)
        print("the temporary store (logs/ has each program's log) is kept", file=sys.stderr)
        return 1
    if not outcome.ok:
        print("selftest FAILED: see the lines marked ! above", file=sys.stderr)
        return 1
    print("selftest passed: nothing acknowledged was lost or done twice")
    return 0
