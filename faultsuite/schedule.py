"""The fault schedule: which fault, at which point of the run, drawn from one seed.

Faults fire when the tills have taken a given number of orders (not at a
clock time), so the same seed and order count give the same faults in the
same order on a fast box and a slow one. The kinds are dealt round-robin in
a seeded order, so a run of at least ``len(KINDS)`` faults injects each kind.
Faults run one after another on the injector's thread; each undoes itself
(Odoo comes back, the paper is refilled, a killed process is started again).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from faultsuite.paytrap import PayTrap
from faultsuite.store import PRINTERS, Store
from faultsuite.watchers import Watchers

KINDS = (
    "kill_serve",
    "kill_during_pay",
    "kill_bridge",
    "kill_printer",
    "kill_sync",
    "restart_mosquitto",
    "stop_redis",
    "odoo_down",
    "odoo_flaky",
    "paper_out",
    "ws_stall",
    "disk_writes",
)
DISK_WRITE_MB = 32
PAY_KILL_TRIES = 2


def plan(
    seed: int, orders: int, faults: int, kinds: tuple[str, ...] = KINDS
) -> list[tuple[int, str]]:
    """``faults`` (order count, kind) pairs, the counts spread over the run's middle."""
    rng = random.Random(seed)
    dealing = list(kinds)
    rng.shuffle(dealing)
    dealt = [dealing[i % len(dealing)] for i in range(faults)]
    low, high = max(1, orders // 20), max(2, orders * 9 // 10)
    at = sorted(rng.randint(low, high) for _ in dealt)
    return list(zip(at, dealt, strict=True))


class Injector(threading.Thread):
    """Runs the schedule against a store while its tills sell."""

    def __init__(
        self,
        store: Store,
        watchers: Watchers,
        seed: int,
        schedule: list[tuple[int, str]],
        orders_taken: Callable[[], int],
    ) -> None:
        super().__init__(name="faults", daemon=True)
        self.store = store
        self.watchers = watchers
        self.rng = random.Random(seed + 1)
        self.schedule = schedule
        self.orders_taken = orders_taken
        self.injected: Counter[str] = Counter()
        self.log: list[str] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self._trap_lock = threading.Lock()
        self._trap: PayTrap | None = None
        self._next = 0  # index of the first fault not yet started
        self.pay_kills: Counter[str] = Counter()  # how each pay trap ended

    def next_at(self) -> float:
        """The order count of the fault running now or due next (infinity after the last).

        Tills may sell ``OrderSlots.LEAD`` orders past it; while a pay trap waits
        for a till to pay, as many as it takes.
        """
        index = self._next
        if self._trap is not None or index >= len(self.schedule):
            return float("inf")
        return self.schedule[index][0]

    def run(self) -> None:
        try:
            for index, (at, kind) in enumerate(self.schedule):
                while self.orders_taken() < at:
                    if self.stop.wait(0.05):
                        return
                started = time.monotonic()
                taken = self.orders_taken()
                done = getattr(self, kind)()
                self._next = index + 1
                self.injected[kind] += 1 if done is None else done
                took = time.monotonic() - started
                self.log.append(f"due at {at:>6}, at {taken:>6} orders: {kind} ({took:.1f} s)")
        except BaseException as exc:  # reported by the run, which fails
            self.error = exc

    # -- the pay trap: a till asks for it before each payment --------------------------------

    def pay_trap(self) -> PayTrap | None:
        with self._trap_lock:
            trap, self._trap = self._trap, None
            return trap

    # -- the faults ---------------------------------------------------------------------------

    def _bounce(self, name: str, low: float = 0.2, high: float = 1.0) -> None:
        child = self.store.programs[name]
        child.kill()
        time.sleep(self.rng.uniform(low, high))
        child.start()

    def kill_serve(self) -> None:
        self._bounce(self.rng.choice([s.name for s in self.store.servers]))

    def kill_during_pay(self) -> int:
        """SIGKILL the hub a payment was just sent to (``faultsuite.paytrap``).

        ``PAY_KILL_TRIES`` timed kills at random moments a few milliseconds
        after the payment left the till, then one that cuts the answer: the
        hub dies after committing the payment, before the till hears of it.
        Each kill is one injected fault.
        """
        kills = 0
        delays: list[float | None] = [self.rng.uniform(0.002, 0.03) for _ in range(PAY_KILL_TRIES)]
        for delay in [*delays, None]:
            trap = PayTrap(self.store, delay)
            with self._trap_lock:
                self._trap = trap
            if not self._until(trap.sprung, 30) or not self._until(trap.settled, 90):
                with self._trap_lock:
                    self._trap = None
                if self.stop.is_set():  # the tills have sold every order
                    return kills
                raise RuntimeError("no till paid for 30 s: the pay trap was never taken")
            how = "cut" if delay is None else "timed"
            self.pay_kills[f"{how}: {trap.outcome}"] += 1
            for child in trap.killed:
                kills += 1
                child.kill()
                time.sleep(self.rng.uniform(0.2, 0.6))
                child.start()
        return kills

    def _until(self, event: threading.Event, seconds: float) -> bool:
        """Wait for ``event``; False if it did not come in time or the run is stopping."""
        deadline = time.monotonic() + seconds
        while not event.wait(0.1):
            if self.stop.is_set() or time.monotonic() > deadline:
                return False
        return True

    def kill_bridge(self) -> None:
        self._bounce("bridge")

    def kill_printer(self) -> None:
        self._bounce(self.rng.choice(list(PRINTERS)))

    def kill_sync(self) -> None:
        self._bounce("sync")

    def restart_mosquitto(self) -> None:
        self.store.broker.kill()
        time.sleep(self.rng.uniform(0.5, 1.5))
        self.store.broker.start()

    def stop_redis(self) -> None:
        assert self.store.redis is not None
        self.store.redis.kill()
        time.sleep(self.rng.uniform(2.0, 4.0))
        self.store.redis.start()

    def odoo_down(self) -> None:
        self.store.odoo.go_down("refused")
        time.sleep(self.rng.uniform(2.0, 5.0))
        self.store.odoo.come_back()

    def odoo_flaky(self) -> None:
        """One call in five answered 503, for a while."""
        self.store.odoo.faults.set(error_rate=0.2)
        time.sleep(self.rng.uniform(4.0, 8.0))
        self.store.odoo.faults.set(error_rate=0.0)

    def paper_out(self) -> None:
        printer = self.rng.choice(list(PRINTERS))
        self.store.printers.set(printer, paper_out=True)
        time.sleep(self.rng.uniform(2.0, 4.0))
        self.store.printers.set(printer, paper_out=False)

    def ws_stall(self) -> None:
        """A watcher stops reading for longer than the hub's ping interval plus timeout."""
        self.watchers.stall(self.rng.randrange(len(self.watchers.watchers)), 4.0)
        time.sleep(4.0)

    def disk_writes(self) -> None:
        """Two writers fill the database's disk with fsynced megabytes beside the tills."""

        def write(path: Path) -> None:
            block = os.urandom(1 << 20)
            with path.open("wb") as f:
                for _ in range(DISK_WRITE_MB):
                    f.write(block)
                    f.flush()
                    os.fsync(f.fileno())
            path.unlink()

        writers = [
            threading.Thread(target=write, args=(self.store.dir / f"ballast{i}",)) for i in (1, 2)
        ]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
