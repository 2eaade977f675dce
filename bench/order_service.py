"""bench.order_service: the writer's share of an order, in process, without HTTP.

    .venv/bin/python -m bench.order_service [--orders 400] [--repeat 5]

Runs create -> validate -> pay through ``hub.orders.commands`` on a demo store,
each operation in its own write transaction as the hub's writer runs it, and
prints the CPU time per operation (best of the repeats: CPU time is not
inflated by waiting, and the best run is the one least disturbed by other work
on the box), the SQL statements per order, and the cost of the state machine
alone. The baseline is the transaction of ``bench.baseline_app`` (an order,
three lines and one event row) run the same way; the ratio says how many
baseline transactions one hub operation costs.

``synchronous=OFF`` for both: this measures CPU, and fsync is the disk's time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from statemachine import State, StateMachine

from bench.baseline_app import insert_order, open_baseline
from bench.workload import hub_env
from hub import sessions
from hub.auth.users import get_actor
from hub.db.connection import immediate, open_db
from hub.orders import commands
from hub.orders.machine import (
    LineFacts,
    OrderContext,
    OrderMachine,
    OrderState,
    PaymentFacts,
    ProductFacts,
    machine_for,
)
from hub.orders.money import Money
from hub.settings import Settings

LINES = [
    commands.LineInput(1, Decimal(1)),
    commands.LineInput(10, Decimal(2)),
    commands.LineInput(32, Decimal(1)),
]


def best_cpu_per_call(fn: Callable[[], Any], calls: int, repeat: int) -> float:
    """Seconds of this thread's CPU per call, best of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.thread_time() - started) / calls)
    return best


class HubOrders:
    """The demo store opened the way the hub's writer opens it, with one open session."""

    def __init__(self, path: Path) -> None:
        env = hub_env(EDGEHUB_DB=str(path))
        subprocess.run(
            [sys.executable, "-m", "hub.cli", "demo"], env=env, check=True, capture_output=True
        )
        self.settings = Settings(db=str(path))
        self.db = open_db(self.settings)
        self.db.conn.execute("PRAGMA synchronous = OFF")  # CPU only: not a hub setting
        self.money = Money(self.settings.rules.currency_digits)
        self.rules = commands.OrderRules(
            money=self.money,
            store=self.settings.store.code,
            max_discount_pct=self.settings.rules.max_discount_pct,
        )
        actor = get_actor(self.db, 1)
        assert actor is not None
        self.actor = actor
        with immediate(self.db):
            session = sessions.open_session(
                self.db, self.money, actor, terminal="bench", opening_cash=0
            )
        self.session_id = session.id
        self.split = {"create": 0.0, "validate": 0.0, "pay": 0.0}

    def one_order(self) -> None:
        t0 = time.thread_time()
        with immediate(self.db):
            order, _ = commands.create_order(
                self.db,
                self.rules,
                self.actor,
                uuid=str(uuid.uuid4()),
                session_id=self.session_id,
                lines=LINES,
                note="",
                fingerprint="bench",
            )
        t1 = time.thread_time()
        with immediate(self.db):
            order = commands.transition(self.db, self.rules, self.actor, order.id, "validate")
        t2 = time.thread_time()
        amount = self.money.parse(order.amount_total)
        payments = [commands.PaymentInput(method_id=2, amount=amount)]
        with immediate(self.db):
            commands.transition(self.db, self.rules, self.actor, order.id, "pay", payments=payments)
        t3 = time.thread_time()
        for name, spent in (("create", t1 - t0), ("validate", t2 - t1), ("pay", t3 - t2)):
            self.split[name] += spent

    def statements_per_order(self) -> int:
        seen: list[str] = []
        self.db.conn.set_trace_callback(seen.append)
        try:
            self.one_order()
        finally:
            self.db.conn.set_trace_callback(None)
        return len(seen)


def baseline_insert(path: Path) -> Callable[[], None]:
    """The baseline app's transaction, on its own connection (synchronous OFF here)."""
    conn = open_baseline(str(path), "OFF")
    lines = [{"product_id": 1, "qty": "1"}, {"product_id": 10, "qty": "2"}]
    lines.append({"product_id": 32, "qty": "1"})

    def insert() -> None:
        insert_order(conn, {"uuid": str(uuid.uuid4()), "lines": lines})

    return insert


def machine_costs(calls: int, repeat: int) -> tuple[float, float, float]:
    """CPU per: building a machine, one send on a new machine, one send on the reused one."""
    product = ProductFacts(1, "Coffee", 250, True, True, False, None)
    line = LineFacts(1, 1, Decimal(2), 250, Decimal(0), False, None, None, product)
    context = OrderContext(Money(2), [line], 500, Decimal(20), [PaymentFacts(2, 500, True, True)])

    def build() -> None:
        OrderMachine(OrderState("validated"), context)

    def fresh_send() -> None:
        OrderMachine(OrderState("validated"), context).send("pay")

    def reused_send() -> None:
        with machine_for("validated", context) as machine:
            machine.send("pay")

    return (
        best_cpu_per_call(build, calls, repeat),
        best_cpu_per_call(fresh_send, calls, repeat),
        best_cpu_per_call(reused_send, calls, repeat),
    )


class Toggle(StateMachine):
    """The smallest machine worth the name: what a ``send()`` costs the library itself."""

    off = State(initial=True)
    on = State()
    flip = off.to(on) | on.to(off)


def library_floor(calls: int, repeat: int) -> float:
    """CPU per ``send()`` on a two-state python-statemachine with no callbacks."""
    toggle = Toggle()
    return best_cpu_per_call(lambda: toggle.send("flip"), calls, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=400, help="orders per repeat")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    us = 1e6
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubOrders(Path(tmp) / "hub.db")
        for _ in range(50):  # warm the statement cache and the spare machine
            hub.one_order()
        split = dict.fromkeys(hub.split, float("inf"))
        for _ in range(args.repeat):  # best run of each operation
            hub.split = dict.fromkeys(hub.split, 0.0)
            for _ in range(args.orders):
                hub.one_order()
            split = {k: min(split[k], v / args.orders) for k, v in hub.split.items()}
        statements = hub.statements_per_order()
        insert = baseline_insert(Path(tmp) / "baseline.db")
        for _ in range(50):
            insert()
        base = best_cpu_per_call(insert, args.orders, args.repeat)
    build, fresh, reused = machine_costs(args.orders * 3, args.repeat)
    floor = library_floor(args.orders * 3, args.repeat)
    per_order = sum(split.values())
    per_op = per_order / 3
    print(
        f"bench.order_service  ({args.orders} orders x {args.repeat}, best run, thread CPU,"
        " synchronous=OFF)"
    )
    print(
        f"  hub   per operation: {per_op * us:7.1f} us  ("
        + ", ".join(f"{k} {v * us:.0f}" for k, v in split.items())
        + f"; {per_order * us:.0f} us per order)"
    )
    print(f"  hub   SQL statements per order: {statements}")
    print(f"  base  per transaction: {base * us:7.1f} us  (bench.baseline_app's insert)")
    print(f"  ratio hub operation / baseline transaction: {per_op / base:.2f}")
    print(
        f"  state machine: build {build * us:.0f} us, build+send {fresh * us:.0f} us,"
        f" send on the reused machine {reused * us:.0f} us;"
        f" a send on a bare two-state machine {floor * us:.0f} us (the library's floor)"
    )


if __name__ == "__main__":
    main()
