"""bench.soak: the whole-store fault suite run long, beside the same store without faults.

    .venv/bin/python -m bench.soak [--minutes 30] [--orders 20000] [--faults N] [--tills 4]

The soak sells ``--orders`` orders (or stops at ``--minutes``) on ``--tills``
tills under a seeded fault schedule of ``--faults`` faults (default one per
40 orders: 500 for 20,000), then checks the ledger (faultsuite.ledger) and
prints its table. The baseline is the same store selling a tenth as many
orders with no fault, measured first in the same run: orders per second and
the time a till spends on one order (create, validate, pay, sometimes
cancel), median and 95th percentile. Exit status 1 if the ledger finds
anything lost or duplicated.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from faultsuite.run import Outcome, run_suite


def figures(name: str, outcome: Outcome) -> str:
    d = sorted(outcome.durations)
    p95 = d[int(len(d) * 0.95)] if d else 0.0
    orders = len(d)
    return (
        f"{name:<10} {orders:>7} {sum(outcome.faults.values()):>7} "
        f"{orders / outcome.selling_seconds:>9.1f} {statistics.median(d) * 1000:>9.0f} "
        f"{p95 * 1000:>9.0f} {len(outcome.ledger.lost):>5} {len(outcome.ledger.duplicated):>5}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--faults", type=int, default=None, help="default: one per 40 orders")
    parser.add_argument("--tills", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    faults = args.faults if args.faults is not None else max(12, args.orders // 40)
    quiet = lambda _line: None  # noqa: E731 - the baseline's table is not wanted
    baseline = run_suite(
        orders=max(50, args.orders // 10), faults=0, tills=args.tills, seed=args.seed,
        max_seconds=args.minutes * 6, say=quiet,
    )  # fmt: skip
    soak = run_suite(
        orders=args.orders, faults=faults, tills=args.tills, seed=args.seed,
        max_seconds=args.minutes * 60,
    )  # fmt: skip
    print()
    print(f"{'run':<10} {'orders':>7} {'faults':>7} {'orders/s':>9} {'p50 ms':>9} {'p95 ms':>9} "
          f"{'lost':>5} {'dup':>5}")  # fmt: skip
    print(figures("baseline", baseline))
    print(figures("soak", soak))
    return 0 if soak.ok and baseline.ok else 1


if __name__ == "__main__":
    sys.exit(main())
