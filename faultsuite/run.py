"""One run of the fault suite: build a store, sell under a fault schedule, heal, check the ledger.

``run_suite`` is what ``tests/e2e``, ``edgehub selftest`` and ``bench.soak``
call, with different sizes. The run is reproducible from its seed: the same
orders, the same faults at the same order counts (timing on a shared box
still differs, which is the point of killing at random moments).
"""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from faultsuite import ledger as ledger_mod
from faultsuite.kds import Kds
from faultsuite.ledger import Ledger
from faultsuite.processes import Starter, fresh_interpreter
from faultsuite.schedule import KINDS, Injector, plan
from faultsuite.store import Store
from faultsuite.tills import Till
from faultsuite.watchers import Watchers
from hub.settings import Settings

SETTLE_SECONDS = 180.0
WATCHED = [("marco", "store"), ("kitchen", "kitchen")]


@dataclass
class Outcome:
    ledger: Ledger
    faults: Counter[str]
    seconds: float
    table: str
    fault_log: list[str]
    durations: list[float]  # per order, create to last answer, every till
    selling_seconds: float

    @property
    def ok(self) -> bool:
        return self.ledger.ok


class OrderSlots:
    """Hands out order slots to the tills until the run's count or time is reached.

    Faults take seconds each and run one at a time, so on a fast box the tills
    could finish before the schedule does. A till waits while the next fault is
    more than ``LEAD`` orders overdue: every fault is injected while tills sell.
    """

    LEAD = 20

    def __init__(self, orders: int, deadline: float) -> None:
        self.limit = orders
        self.deadline = deadline
        self.taken = 0
        self.next_fault_at: Callable[[], float] = lambda: float("inf")
        self._lock = threading.Lock()

    def take(self) -> bool:
        while True:
            with self._lock:
                if self.taken >= self.limit or time.monotonic() > self.deadline:
                    return False
                if self.taken < self.next_fault_at() + self.LEAD:
                    self.taken += 1
                    return True
            time.sleep(0.05)


def run_suite(
    *,
    orders: int = 1000,
    faults: int = 24,
    tills: int = 4,
    seed: int = 1,
    max_seconds: float = 600.0,
    workdir: Path | None = None,
    with_redis: bool = True,
    tamper: Callable[[Store, Watchers], None] | None = None,
    say: Callable[[str], None] = print,
    starter: Starter = fresh_interpreter,
) -> Outcome:
    """Sell ``orders`` orders on ``tills`` tills under ``faults`` faults; check the ledger.

    ``tamper`` (tests only) damages the evidence after the run, before the check,
    to show the check notices: it is not a switch in any program of the store.
    ``starter`` starts the store's ``edgehub`` programs: each a fresh interpreter,
    unless a test passes its own (tests/support/launch.py forks pre-imported ones).
    """
    own_dir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="edgehub-faults-")) if workdir is None else workdir
    started = time.monotonic()
    store = Store(work, with_redis=with_redis, starter=starter)
    injector: Injector | None = None
    kds: Kds | None = None
    watchers: Watchers | None = None
    till_threads: list[Till] = []
    try:
        say(f"building a store in {work} (seed {seed})")
        store.build()
        say(f"store up in {time.monotonic() - started:.0f} s; selling {orders} orders")
        watchers = Watchers(store.urls, WATCHED)
        kds = Kds(store.mqtt_port, store.code)
        counter = OrderSlots(orders, time.monotonic() + max_seconds)
        kinds = KINDS if with_redis else tuple(k for k in KINDS if k != "stop_redis")
        schedule = plan(seed, orders, faults, kinds)
        injector = Injector(store, watchers, seed, schedule, lambda: counter.taken)
        counter.next_fault_at = injector.next_at
        rng = random.Random(seed)
        till_threads = [
            Till(
                n + 1,
                store.urls,
                random.Random(rng.random()),
                counter.take,
                injector.pay_trap,
            )
            for n in range(tills)
        ]
        injector.start()
        selling = time.monotonic()
        for t in till_threads:
            t.start()
        _progress(till_threads, counter, injector, say)
        selling_seconds = time.monotonic() - selling
        injector.stop.set()
        injector.join()
        if injector.error is not None:
            raise RuntimeError(f"fault injection failed: {injector.error!r}") from injector.error
        for t in till_threads:
            t.join()
        say("healing the store and letting it settle")
        store.heal()
        settings = Settings(db=store.db, store=store.code, mqtt_url="")
        heads = _settle(store, settings, watchers)
        if tamper is not None:
            tamper(store, watchers)
        ledger = _check(store, settings, till_threads, watchers, heads)
    finally:
        for t in till_threads:
            t.stop.set()
        if injector is not None:
            injector.stop.set()
        if watchers is not None:
            watchers.close()
        if kds is not None:
            kds.close()
        store.close()
    seconds = time.monotonic() - started
    text = ledger_mod.table(ledger, injector.injected, seconds)
    say(text)
    if injector.pay_kills:
        say(
            "pay kills: " + ", ".join(f"{n} {how}" for how, n in sorted(injector.pay_kills.items()))
        )
    if own_dir and ledger.ok:
        shutil.rmtree(work, ignore_errors=True)
    durations = [d for t in till_threads for d in t.durations]
    return Outcome(
        ledger, injector.injected, seconds, text, injector.log, durations, selling_seconds
    )


def _progress(
    tills: list[Till], counter: OrderSlots, injector: Injector, say: Callable[[str], None]
) -> None:
    last = time.monotonic()
    while any(t.is_alive() for t in tills):
        time.sleep(0.5)
        for t in tills:
            if t.error is not None:
                raise RuntimeError(f"{t.name} failed: {t.error!r}") from t.error
        if injector.error is not None:
            raise RuntimeError(f"fault injection failed: {injector.error!r}") from injector.error
        if time.monotonic() - last > 15:
            last = time.monotonic()
            say(f"  {counter.taken} orders, {sum(injector.injected.values())} faults")


def _settle(store: Store, settings: Settings, watchers: Watchers) -> dict[str, int]:
    """Wait until Odoo has every order, every ticket is printed and every watcher caught up.

    Returns each watched room's head at that moment: the watchers are held to
    every event up to it (the store keeps writing a few, presence and status,
    after the last order; those may still be on their way when the check runs).
    """
    deadline = time.monotonic() + SETTLE_SECONDS
    heads: dict[str, int] = {}
    while time.monotonic() < deadline:
        outbox = store.sql("SELECT COUNT(*) FROM sync_outbox WHERE state != 'done'")[0][0]
        jobs = store.sql("SELECT COUNT(*) FROM kitchen_jobs WHERE state NOT IN ('acked', 'void')")
        heads = {room: (ledger_mod.room_seqs(settings, room) or [0])[-1] for _, room in WATCHED}
        behind = [w for w in watchers.watchers if w.last < heads[w.room]]
        if outbox == 0 and jobs[0][0] == 0 and not behind:
            time.sleep(1.0)  # anything late (a duplicate on its way) has time to show
            return heads
        time.sleep(0.25)
    return heads  # not settled: the check reports what is missing


def _check(
    store: Store, settings: Settings, tills: list[Till], watchers: Watchers, heads: dict[str, int]
) -> Ledger:
    ledger = Ledger()
    orders = ledger_mod.hub_orders(settings)
    receipts = [r for t in tills for r in t.receipts]
    ledger_mod.check_orders(ledger, receipts, orders)
    jobs = [
        (str(name), str(station), str(kind), str(state))
        for name, station, kind, state in store.sql(
            "SELECT o.name, j.station, j.kind, j.state FROM kitchen_jobs j "
            "JOIN orders o ON o.id = j.order_id"
        )
    ]
    ledger_mod.check_kitchen_coverage(ledger, orders, jobs)
    ledger_mod.check_tickets(ledger, jobs, store.printers.printed())
    ledger_mod.check_odoo(ledger, store.odoo, orders)
    seqs = {
        room: [s for s in ledger_mod.room_seqs(settings, room) if s <= heads[room]]
        for _, room in WATCHED
    }
    ledger_mod.check_watchers(ledger, watchers.watchers, seqs)
    code, output = store.run("audit", "verify")
    ledger.counts["audit chain verified"] += code == 0
    if code != 0:
        ledger.inconsistent.append(f"audit verify: {output.strip()}")
    return ledger
