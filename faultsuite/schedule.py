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
PAY_KILL_TRIES = 4


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
        self._trap: Callable[[list[str]], None] | None = None
        self._trap_sprung = threading.Event()
        self._next = 0  # index of the first fault not yet started
        self.readbacks = 0

    def next_at(self) -> float:
        """The order count the next fault waits for (infinity once all have started)."""
        index = self._next
        return self.schedule[index][0] if index < len(self.schedule) else float("inf")

    def run(self) -> None:
        try:
            for index, (at, kind) in enumerate(self.schedule):
                while self.orders_taken() < at:
                    if self.stop.wait(0.05):
                        return
                started = time.monotonic()
                self._next = index + 1
                done = getattr(self, kind)()
                self.injected[kind] += 1 if done is None else done
                self.log.append(f"{at:>6} orders  {kind} ({time.monotonic() - started:.1f} s)")
        except BaseException as exc:  # reported by the run, which fails
            self.error = exc

    # -- the pay trap: a till asks for it before each payment --------------------------------

    def pay_trap(self) -> Callable[[list[str]], None] | None:
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
        """SIGKILL the hub a payment was just sent to, a few milliseconds after it left the till.

        Too early and the hub never saw the payment; too late and the till had
        its answer. The delay grows each try until a till had to learn its
        payment's outcome by reading the order back (at most ``PAY_KILL_TRIES``
        kills); each kill is one injected fault.
        """
        before = self.readbacks
        kills = 0
        for attempt in range(PAY_KILL_TRIES):
            delay = self.rng.uniform(0.001, 0.008) * (attempt + 1)
            killed: list[str] = []

            def trap(urls: list[str], delay: float = delay, killed: list[str] = killed) -> None:
                by_url = dict(zip(self.store.urls, self.store.servers, strict=True))
                target = next((by_url[u] for u in urls if by_url[u].alive()), None)
                if target is not None:
                    threading.Timer(delay, target.kill).start()
                    killed.append(target.name)
                self._trap_sprung.set()

            self._trap_sprung.clear()
            with self._trap_lock:
                self._trap = trap
            if not self._trap_sprung.wait(30):
                with self._trap_lock:
                    self._trap = None
                raise RuntimeError("no till paid for 30 s: the pay trap was never taken")
            time.sleep(delay + 0.05)
            for name in killed:
                kills += 1
                self.store.programs[name].kill()
                time.sleep(self.rng.uniform(0.2, 0.6))
                self.store.programs[name].start()
            time.sleep(0.3)  # the till reads back from the other hub meanwhile
            if self.readbacks > before:
                break
        return kills

    def note_readback(self) -> None:
        """A till learned a payment's outcome by reading the order back."""
        with self._trap_lock:
            self.readbacks += 1

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
