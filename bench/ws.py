"""``python -m bench.ws``: the hub's WebSocket layer beside a raw ``websockets.broadcast``.

One run starts a real ``edgehub serve`` (demo store, fresh database) and the
minimal baseline server of ``bench.ws_baseline``, both pinned to the first
CPU, and load clients (uvloop, in separate processes) on the other CPUs. Each
hub client signs in with its own manager token, and the baseline sends frames
as long as the hub's event frame, padded to ``--frame`` bytes (1,230). It prints:

* connect + authenticate + subscribe, at 100, 1,000 and 5,000 clients, 100
  at a time: to ``store`` (the harness's room; each client's ``device.status``
  is written to the log, to room ``devices``, which none of them joined) and
  to a session room, beside the baseline's bare connects. How it is timed:
  after a warm-up of 100 connections to each (not recorded), each phase
  starts once both servers have been idle for 0.2 s, the load processes all
  start at one moment set ahead of time, and the rate runs from that moment
  to the last ``subscribed`` reply, as the clients' own clocks saw it (the
  driver's pipes are not in it). Seven passes over the sizes, so that the
  box's drift over a run hits every size; in each, a size runs once, or in
  rounds until it has made 2,000 connections over the passes, the three
  targets alternating; its rate is the median round, its CPU the sum. With
  the server's CPU per connection;
* with 1,000 and 5,000 subscribers of one room: per-client latency p50/p99
  of one event, from the trigger (the baseline: its ``fire`` message; the
  hub: the start of an order POST, so the order is validated and committed
  with its event before any fan-out) to the frame's arrival, and p99 from
  the commit (the POST answered); the server's CPU time per delivery; where
  the hub's time went from its tailer's wake-up to the last write; deliveries
  per second for a burst (the hub: orders POSTed by four tills at once);
  each with the hub/baseline ratio;
* a reconnect storm: ``--storm`` tills of one session drop at once and all
  reconnect with ``since`` while orders keep coming; the time until every
  one has every event, and a check that none was missed or repeated;
* the hub's RSS with 10,000 idle authenticated subscribers.

Rounds of hub and baseline alternate, so drift on a shared box hits both.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect as sync_connect

from bench import ws_clients
from bench.workload import cpu_seconds, free_port, hub_env, rss_mib
from hub.settings import Settings
from hub.web.tokens import make_jwt_auth

ROOT = Path(__file__).resolve().parents[1]
TARGET_P99_RATIO = 1.25
TARGET_BURST_RATIO = 0.8
TARGET_RSS_MB = 300
TARGET_STORM_SECONDS = 2.0
CONNECT_IN_FLIGHT = 100
START_MARGIN_NS = 20_000_000  # the load clients' common start, this far after the command
CONNECT_ROUND_MIN = 2000  # connections per connect-rate row at least, in rounds of its size
CONNECT_PASSES = 7  # passes over every size, at least one round each: the median of 7 or more
QUIET_SECONDS = 0.2  # 20 of the kernel's 10 ms CPU ticks


def raise_nofile() -> int:
    """Lift the open-files limit to the hard limit; children inherit it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Clients:
    """The load-client processes, driven over pipes."""

    def __init__(self, processes: int, cpus: set[int] | None) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs = []
        for _ in range(processes):
            ours, theirs = context.Pipe()
            proc = context.Process(target=ws_clients.run, args=(theirs, cpus), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)
        self.all("ready")  # started and imported: connect rates must not include that

    def all(self, command: str, *args: Any) -> list[Any]:
        for pipe in self.pipes:
            pipe.send((command, args))
        return [pipe.recv() for pipe in self.pipes]

    def split(self, items: list[Any]) -> list[list[Any]]:
        n = len(self.pipes)
        return [items[i::n] for i in range(n)]

    def connect(
        self,
        group: str,
        urls: list[str],
        room: str | None,
        in_flight: int,
        since: list[int | None] | None = None,
        start_at: int | None = None,
    ) -> list[dict[str, Any]]:
        """Open one connection per URL, spread over the processes, ``in_flight`` at a time
        (all processes from ``start_at``, monotonic ns, when given)."""
        per = max(1, in_flight // len(self.pipes))
        parts = self.split(list(range(len(urls))))
        for pipe, part in zip(self.pipes, parts, strict=True):
            mine = [urls[i] for i in part]
            sinces = [since[i] for i in part] if since is not None else None
            pipe.send(("connect", (group, mine, room, per, sinces, start_at)))
        return [pipe.recv() for pipe in self.pipes]

    def quit(self) -> None:
        self.all("quit")
        for proc in self.procs:
            proc.join(10)


class Servers:
    """The hub and the baseline, as child processes."""

    def __init__(self, workdir: Path, cpus: set[int] | None) -> None:
        self.workdir = workdir
        self.cpus = cpus
        self.hub_port, self.raw_port = free_port(), free_port()
        self.hub_url = f"http://127.0.0.1:{self.hub_port}"
        self.db = workdir / "edgehub.db"
        self.env = hub_env(
            EDGEHUB_DB=str(self.db),
            EDGEHUB_LOG_LEVEL="warning",
            EDGEHUB_MQTT_URL="",
            EDGEHUB_PIN_HASH_ITERATIONS="1000",
        )
        self.procs: list[subprocess.Popen[bytes]] = []

    def _spawn(self, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, *args], env=self.env, stdout=log, stderr=log, cwd=ROOT
        )
        if self.cpus:
            os.sched_setaffinity(proc.pid, self.cpus)
        self.procs.append(proc)
        return proc

    def start_hub(self) -> subprocess.Popen[bytes]:
        subprocess.run(
            [sys.executable, "-m", "hub.cli", "demo"],
            env=self.env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        proc = self._spawn(["-m", "hub.cli", "serve", "--port", str(self.hub_port)])
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.hub_url + "/health", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the hub did not start; see " + str(self.workdir))
            time.sleep(0.1)

    def start_raw(self, payload_bytes: int) -> subprocess.Popen[bytes]:
        proc = self._spawn(["-m", "bench.ws_baseline", str(self.raw_port), str(payload_bytes)])
        deadline = time.monotonic() + 10
        while True:
            try:
                with sync_connect(f"ws://127.0.0.1:{self.raw_port}"):
                    return proc
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


class Hub:
    """The hub as tills and managers see it: tokens, a session, orders carrying ``t0``."""

    def __init__(self, url: str, db: Path) -> None:
        self.db = db
        self.http = httpx.Client(base_url=url, timeout=30)
        r = self.http.post("/api/v1/auth/token", json={"login": "marco", "pin": "9999"})
        self.token = r.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.ws_base = url.replace("http://", "ws://") + "/ws"
        self.pool = ThreadPoolExecutor(max_workers=4)
        self.pad = ""
        with sqlite3.connect(db) as conn:
            self.manager_id = conn.execute("SELECT id FROM users WHERE login = 'marco'").fetchone()[
                0
            ]
        self.auth = make_jwt_auth(Settings(db=db).with_jwt_secret())
        self.minted = 0

    def urls(self, count: int, client: str | None = None) -> list[str]:
        """``count`` /ws URLs, each with a manager token of its own (and a client name)."""
        out = []
        for _ in range(count):
            token = self.auth.create_token(
                identifier=str(self.manager_id),
                token_expiration=timedelta(hours=4),
                token_unique_jwt_id=uuid.uuid4().hex,
                token_extras={"role": "manager", "name": "Marco"},
            )
            self.minted += 1
            name = f"&client={client}-{self.minted}" if client else ""
            out.append(f"{self.ws_base}?token={token}{name}")
        return out

    def open_session(self) -> int:
        r = self.http.post("/api/v1/sessions", json={"terminal": "bench", "opening_cash": "0.00"})
        return int(r.json()["id"])

    def orders(self, session_id: int, t0: int, count: int) -> int:
        """``count`` orders at once, from several tills; when the last was answered (ns)."""
        if count == 1:
            self.order(session_id, t0)
        else:
            list(self.pool.map(lambda _: self.order(session_id, t0), range(count)))
        return time.monotonic_ns()

    def order(self, session_id: int, t0: int) -> None:
        body = {
            "uuid": str(uuid.uuid4()),
            "session_id": session_id,
            "lines": [{"product_id": 1, "qty": "1"}],
            # t0 (19 digits), then padding to the frame size asked for
            "note": f"{t0:019d}{self.pad}",
        }
        r = self.http.post("/api/v1/orders", json=body)
        assert r.status_code == 201, r.text

    def pad_frames_to(self, session_id: int, size: int) -> int:
        """Pad orders' notes so their event frame is ``size`` bytes (as far as a note allows)."""
        self.order(session_id, time.monotonic_ns())
        item = self.http.get("/api/v1/events?since=0&limit=500").json()["items"][-1]
        frame = {"type": "event", "room": f"session:{session_id}", **item}
        plain = len(json.dumps(frame, separators=(",", ":")))
        self.pad = " " * max(0, min(480, size - plain))
        return plain + len(self.pad)

    def stats(self) -> dict[str, Any]:
        return dict(self.http.get("/api/v1/realtime/stats").json())

    def settle(self, clients: int, within: float = 60.0) -> None:
        """Wait until the hub counts ``clients`` and has delivered its whole log."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            stats = self.stats()
            if stats["clients"] == clients and stats["delivered_to"] == self.head():
                return
            time.sleep(0.1)

    def head(self) -> int:
        with sqlite3.connect(self.db) as conn:
            row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0

    def room_seqs(self, room: str, after: int) -> list[int]:
        with sqlite3.connect(self.db) as conn:
            rows = conn.execute(
                "SELECT seq FROM events WHERE seq > ? AND instr(' ' || rooms || ' ', ?) > 0 "
                "ORDER BY seq",
                (after, f" {room} "),
            ).fetchall()
        return [r[0] for r in rows]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(
    clients: Clients, group: str, per_connection: int, trigger: Callable[[int], int], pid: int
) -> dict[str, Any]:
    """Arm the group, fire, collect.

    ``trigger(t0)`` returns when the event exists (the baseline: sent; the hub:
    the order POST answered, i.e. committed to the log). Latencies are kept
    from both moments, in ms.
    """
    clients.all("arm", group, per_connection)
    cpu = cpu_seconds(pid)
    t0 = time.monotonic_ns()
    t_event = trigger(t0)
    results = clients.all("collect", group, 60.0)
    cpu = cpu_seconds(pid) - cpu
    from_trigger = [ns / 1e6 for r in results for ns in r["latencies"]]
    expected = sum(r["expected"] for r in results)
    if len(from_trigger) < expected:
        print(f"  warning: {group} got {len(from_trigger)} of {expected} frames", file=sys.stderr)
    last = max(r["last_ns"] for r in results)
    shift = (t_event - t0) / 1e6
    return {
        "from_trigger": from_trigger,
        "from_event": [ms - shift for ms in from_trigger],
        "rate": len(from_trigger) / max(1e-9, (last - t0) / 1e9),
        "deliveries": len(from_trigger),
        "server_cpu": cpu,
        "client_cpu": sum(r["cpu"] for r in results),
    }


def connect_rate(clients: Clients, group: str, urls: list[str], room: str | None) -> float:
    """Open the connections (and subscribe), ``CONNECT_IN_FLIGHT`` at a time; per second."""
    return connect_round(clients, group, urls, room)[0]


def connect_round(
    clients: Clients, group: str, urls: list[str], room: str | None
) -> tuple[float, float]:
    """``connect_rate``, and the load clients' CPU seconds for it.

    Timed in the load clients, from the moment they all start (set a little
    ahead, so every process has its command by then) to the last reply: the
    driver's pipe round trips and the processes' wake-ups are not counted.
    """
    start_at = time.monotonic_ns() + START_MARGIN_NS
    results = clients.connect(group, urls, room, CONNECT_IN_FLIGHT, start_at=start_at)
    late = max(r["first_ns"] for r in results) - start_at
    if late > START_MARGIN_NS:
        print(f"  warning: a load client started {late / 1e6:.0f} ms late", file=sys.stderr)
    took = (max(r["last_ns"] for r in results) - start_at) / 1e9
    failures = sum(r["failures"] for r in results)
    if failures:
        print(f"  warning: {failures} {group} connections failed", file=sys.stderr)
    return (len(urls) - failures) / took, sum(r["cpu"] for r in results)


def quiet(pids: list[int], within: float = 10.0) -> None:
    """Wait until the servers have used no CPU for ``QUIET_SECONDS`` (at most ``within`` s).

    What a phase leaves behind (closing sockets, the hub's batched presence
    writes after its clients left) must not be charged to the next phase; and
    both servers share a CPU, so the baseline closing its 5,000 connections
    must not be the hub's next round's neighbour either.
    """
    deadline = time.monotonic() + within
    last = sum(cpu_seconds(pid) for pid in pids)
    while time.monotonic() < deadline:
        time.sleep(QUIET_SECONDS)
        now = sum(cpu_seconds(pid) for pid in pids)
        if now == last:
            return
        last = now


def compare(
    clients: Clients,
    rounds: int,
    burst: int,
    fire: dict[str, Callable[[int, int], int]],
    pids: dict[str, int],
    hub: Hub,
) -> dict[str, dict[str, Any]]:
    """Alternate baseline and hub rounds: single events, then bursts of ``burst``."""
    out: dict[str, dict[str, Any]] = {
        g: {"p50": [], "p99": [], "p99_event": [], "rates": [], "cpu": 0.0, "n": 0}
        for g in ("raw", "hub")
    }
    timings: list[dict[str, float]] = []
    for o in out.values():
        o["client_cpu"] = 0.0
    for _ in range(rounds):
        for group, o in out.items():
            m = measure(clients, group, 1, lambda t0, g=group: fire[g](t0, 1), pids[group])
            o["p50"].append(percentile(m["from_trigger"], 0.50))
            o["p99"].append(percentile(m["from_trigger"], 0.99))
            o["p99_event"].append(percentile(m["from_event"], 0.99))
            o["cpu"] += m["server_cpu"]
            o["n"] += m["deliveries"]
            o["client_cpu"] = max(o["client_cpu"], m["client_cpu"])
            if group == "hub":
                timings.append(hub.stats()["last_fanout"])
            time.sleep(0.05)
    for _ in range(3):
        for group, o in out.items():
            m = measure(clients, group, burst, lambda t0, g=group: fire[g](t0, burst), pids[group])
            o["rates"].append(m["rate"])
            o["client_cpu"] = max(o["client_cpu"], m["client_cpu"])
            time.sleep(0.2)
    # Per event, p50 and p99 over its clients; then the median over the rounds,
    # so one round disturbed by another process on the box does not decide.
    result: dict[str, dict[str, Any]] = {
        group: {
            "p50": statistics.median(o["p50"]),
            "p99": statistics.median(o["p99"]),
            "p99_event": statistics.median(o["p99_event"]),
            "cpu_us": o["cpu"] / max(1, o["n"]) * 1e6,
            "rate": statistics.median(o["rates"]),
            "client_cpu": o["client_cpu"],
        }
        for group, o in out.items()
    }
    keys = ("woken_to_read_us", "read_us", "build_us", "write_us")
    result["hub"]["timing"] = {
        k: statistics.median(t.get(k, 0.0) for t in timings) for k in keys if timings
    }
    return result


def connect_rates(
    clients: Clients,
    hub: Hub,
    raw_url: str,
    sizes: list[int],
    session_id: int,
    pids: dict[str, int],
    passes: int = CONNECT_PASSES,
) -> list[tuple[str, float, float, float, float, float, float]]:
    """Connect + auth + subscribe at each size, from scratch.

    Per size: (label, raw/s, store/s, session/s, then the server's CPU per
    connection in µs: raw, store, session). The CPU figure is the steadier one
    on a shared box: wall-clock rates move with whatever else runs.

    First a warm-up, not recorded: ``CONNECT_IN_FLIGHT`` connections to each
    target, so the hub's first connections after start (imports done lazily,
    caches, SQLite's statement cache) are nobody's row. Then ``passes`` passes
    over the sizes, raw, store and session alternating in each: a size gets
    one round per pass, or as many as make ``CONNECT_ROUND_MIN`` connections
    over the passes (100 clients: 3 per pass). The rate is the median of the
    rounds and the CPU their sum: one round of 100 lasts ~0.1 s, on a shared
    box a few scheduler slices of somebody else's work, and 10 ticks of CPU; a
    single round of 5,000 moved by a third from run to run on a quiet box (the
    raw server's by more); and the box's speed drifts by as much within a run.
    """
    room = f"session:{session_id}"
    servers = [pids["raw"], pids["hub"]]
    targets: list[tuple[str, int, Callable[[int], list[str]], str | None]] = [
        ("c-raw", pids["raw"], lambda n: [raw_url] * n, None),
        ("c-store", pids["hub"], hub.urls, "store"),
        ("c-session", pids["hub"], hub.urls, room),
    ]

    def phase(
        group: str, pid: int, urls: list[str], subscribe: str | None
    ) -> tuple[float, float, float]:
        quiet(servers)  # the previous phase's closes and presence writes are not this one's
        cpu = cpu_seconds(pid)
        rate, client_cpu = connect_round(clients, group, urls, subscribe)
        if subscribe is not None:
            hub.settle(len(urls))  # its presence events written and read, so counted
        used = cpu_seconds(pid) - cpu
        clients.all("close", group)
        if subscribe is not None:
            hub.settle(0)
        return rate, used, client_cpu

    for group, pid, make, subscribe in targets:
        phase(group, pid, make(CONNECT_IN_FLIGHT), subscribe)
    # Passes over every size: the box's speed drifts over a run by more than the 20 %
    # asked of these rows, so each size is measured in every stretch of the run, not
    # 100 clients in the first minute and 5,000 in the last.
    per_pass = {size: -(-max(passes, -(-CONNECT_ROUND_MIN // size)) // passes) for size in sizes}
    rates: dict[int, list[list[float]]] = {size: [[] for _ in targets] for size in sizes}
    used: dict[int, list[float]] = {size: [0.0 for _ in targets] for size in sizes}
    client_used = dict.fromkeys(sizes, 0.0)
    for _ in range(passes):
        for size in sizes:
            for _ in range(per_pass[size]):
                for i, (group, pid, make, subscribe) in enumerate(targets):
                    rate, cpu, client_cpu = phase(group, pid, make(size), subscribe)
                    rates[size][i].append(rate)
                    used[size][i] += cpu
                    if subscribe is not None:
                        client_used[size] += client_cpu
    rows = []
    for size in sizes:
        rounds = per_pass[size] * passes
        raw, store, session = (statistics.median(r) for r in rates[size])
        raw_cpu, store_cpu, session_cpu = (u / (size * rounds) * 1e6 for u in used[size])
        client_cpu = client_used[size] / (2 * size * rounds) * 1e6
        label = f"{size:,} clients, {rounds} rounds"
        rows.append((label, raw, store, session, raw_cpu, store_cpu, session_cpu))
        print(
            f"  connect+auth+subscribe, {label}: raw connects {raw:,.0f}/s, "
            f"hub to store {store:,.0f}/s, to a session {session:,.0f}/s; CPU per connection "
            f"raw {raw_cpu:,.0f} µs, store {store_cpu:,.0f} µs, session {session_cpu:,.0f} µs; "
            f"hub rounds {_spread(rates[size][1])} and {_spread(rates[size][2])}; the load "
            f"clients' CPU per hub connection {client_cpu:,.0f} µs (on CPUs of their own)",
            flush=True,
        )
    return rows


def _spread(rates: list[float]) -> str:
    """A row's rounds, lowest to highest: how much the box moved under it."""
    return f"{min(rates):,.0f} to {max(rates):,.0f}/s"


def storm(clients: Clients, hub: Hub, count: int, orders: int) -> dict[str, Any]:
    """``count`` tills drop at once and reconnect with ``since`` while ``orders`` are placed."""
    session_id = hub.open_session()
    room = f"session:{session_id}"
    urls = hub.urls(count, client="till")
    clients.connect("storm", urls, room, CONNECT_IN_FLIGHT)
    clients.all("track", "storm")
    hub.orders(session_id, 0, 3)
    hub.settle(count)
    time.sleep(0.5)
    seen = [s for part in clients.all("drop", "storm") for s in part]
    since: list[int | None] = [s[-1] if s else None for s in seen]
    part_urls = [u for part in clients.split(urls) for u in part]
    part_since = [s for part in clients.split(since) for s in part]
    hub.settle(0)
    # Everyone expects every order placed during the storm, replayed or live.
    per_process = [len(p) * orders for p in clients.split(urls)]
    for pipe, total in zip(clients.pipes, per_process, strict=True):
        pipe.send(("arm_new", ("storm2", total)))
    for pipe in clients.pipes:
        pipe.recv()
    started = time.monotonic_ns()
    placing = hub.pool.submit(lambda: [hub.order(session_id, started) for _ in range(orders)])
    clients.connect("storm2", part_urls, room, count, part_since)
    connected = (time.monotonic_ns() - started) / 1e9
    placing.result()
    results = clients.all("collect", "storm2", 30.0)
    last = max(r["last_ns"] for r in results)
    got = [s for part in clients.all("seqs", "storm2") for s in part]
    # The same split again: the order the processes hold their connections in.
    resumed_from = [s for part in clients.split(part_since) for s in part]
    missed = repeated = 0
    for sequence, after in zip(got, resumed_from, strict=True):
        want = hub.room_seqs(room, after or 0)
        repeated += len(sequence) - len(set(sequence))
        missed += len(set(want) - set(sequence))
        if sorted(sequence) != sequence:
            repeated += 1  # out of order counts as wrong
    clients.all("close", "storm2")
    return {
        "clients": len(got),
        "connected_s": connected,
        "all_caught_up_s": (last - started) / 1e9,
        "missed": missed,
        "repeated": repeated,
        "frames": sum(len(s) for s in got),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ws", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000", help="subscriber counts, comma-separated")
    parser.add_argument("--connects", default="100,1000,5000", help="connect-rate client counts")
    parser.add_argument("--idle", type=int, default=10_000, help="connections for the RSS figure")
    parser.add_argument("--rounds", type=int, default=21, help="single-event rounds per size")
    parser.add_argument("--burst", type=int, default=100, help="events per burst")
    parser.add_argument("--storm", type=int, default=1000, help="tills in the reconnect storm")
    parser.add_argument("--frame", type=int, default=1230, help="event frame bytes")
    parser.add_argument("--clients", type=int, default=4, help="load-client processes")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    connects = [int(s) for s in args.connects.split(",") if s]

    nofile = raise_nofile()
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus, client_cpus = ({cpus[0]}, set(cpus[1:])) if len(cpus) > 1 else (None, None)
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)
    print(
        f"bench.ws: {len(cpus)} CPUs (servers on {server_cpus}, clients on {client_cpus}), "
        f"RLIMIT_NOFILE {nofile}, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as tmp:
        servers = Servers(Path(tmp), server_cpus)
        clients: Clients | None = None
        try:
            hub_proc = servers.start_hub()
            hub = Hub(servers.hub_url, servers.db)
            session_id = hub.open_session()
            frame_bytes = hub.pad_frames_to(session_id, args.frame)
            raw_proc = servers.start_raw(frame_bytes)
            raw_url = f"ws://127.0.0.1:{servers.raw_port}"
            clients = Clients(args.clients, client_cpus)
            rss_empty = rss_mib(hub_proc.pid)
            pids = {"raw": raw_proc.pid, "hub": hub_proc.pid}
            connect_rows = connect_rates(clients, hub, raw_url, connects, session_id, pids)
            storm_result = storm(clients, hub, args.storm, 10) if args.storm else None
            with sync_connect(raw_url, compression=None, ping_interval=None) as control:

                def fire_raw(t0: int, n: int) -> int:
                    control.send(f"fire {t0} {n}")
                    return time.monotonic_ns()

                fire = {"raw": fire_raw, "hub": lambda t0, n: hub.orders(session_id, t0, n)}
                rows, timings = run_sizes(
                    clients, sizes, args, fire, pids, raw_url, hub, session_id
                )
            clients.all("close", "raw")
            idle_session = hub.open_session()
            held = sizes[-1] if sizes else 0
            idle_rate = connect_rate(
                clients, "idle", hub.urls(args.idle - held), f"session:{idle_session}"
            )
            hub.settle(args.idle)
            time.sleep(1.0)
            report(
                rows,
                timings,
                connect_rows,
                storm_result,
                args,
                frame_bytes,
                rss_empty,
                rss_mib(hub_proc.pid),
                idle_rate,
            )
        finally:
            if clients is not None:
                clients.quit()
            servers.stop()
    return 0


def run_sizes(
    clients: Clients,
    sizes: list[int],
    args: argparse.Namespace,
    fire: dict[str, Callable[[int, int], int]],
    pids: dict[str, int],
    raw_url: str,
    hub: Hub,
    session_id: int,
) -> tuple[list[tuple[str, float, float]], dict[int, dict[str, float]]]:
    rows: list[tuple[str, float, float]] = []
    timings: dict[int, dict[str, float]] = {}
    held = 0
    for size in sizes:
        add = size - held
        connect_rate(clients, "raw", [raw_url] * add, None)
        connect_rate(clients, "hub", hub.urls(add), f"session:{session_id}")
        held = size
        hub.settle(size)
        r = compare(clients, args.rounds, args.burst, fire, pids, hub)
        raw, ours = r["raw"], r["hub"]
        label = f"{size:,} subscribers:"
        rows.append((f"{label} latency p50 (ms)", raw["p50"], ours["p50"]))
        rows.append((f"{label} latency p99 (ms)", raw["p99"], ours["p99"]))
        rows.append((f"{label} p99 from commit (ms)", raw["p99_event"], ours["p99_event"]))
        rows.append((f"{label} server CPU per delivery (us)", raw["cpu_us"], ours["cpu_us"]))
        rows.append((f"{label} burst deliveries/s", raw["rate"], ours["rate"]))
        timings[size] = ours["timing"]
        print(
            f"  {size:,} subscribers: busiest load-client CPU per measure: raw "
            f"{raw['client_cpu']:.2f} s, hub {ours['client_cpu']:.2f} s",
            flush=True,
        )
    return rows, timings


def report(
    rows: list[tuple[str, float, float]],
    timings: dict[int, dict[str, float]],
    connect_rows: list[tuple[str, float, float, float, float, float, float]],
    storm_result: dict[str, Any] | None,
    args: argparse.Namespace,
    frame_bytes: int,
    rss_empty: float,
    rss_idle: float,
    idle_rate: float,
) -> None:
    print()
    print(
        f"event frame {frame_bytes} bytes; {args.rounds} single-event rounds and 3 bursts of "
        f"{args.burst} per size, hub and baseline alternating. Latency: from the trigger "
        "(baseline: its fire message; hub: the start of an order POST, which validates and "
        "commits the order and its event) to the frame's arrival at each client; p50/p99 "
        "over the clients of one event, median over the rounds. 'From commit' counts the hub "
        "from the POST's answer instead (early by the answer's trip: fan-out may have begun)."
    )
    print()
    print("| measure | raw websockets.broadcast | hub | hub / raw |")
    print("|---|---:|---:|---:|")
    for name, raw, hub in rows:
        print(f"| {name} | {raw:,.1f} | {hub:,.1f} | {hub / raw:.2f} |")
    print()
    if timings:
        print("hub, tailer woken after the commit → last write, medians over the rounds (µs):")
        print()
        print("| subscribers | woken → read | read | frames built | writes to all |")
        print("|---|---:|---:|---:|---:|")
        for size, t in timings.items():
            print(
                f"| {size:,} | {t.get('woken_to_read_us', 0):,.0f} | {t.get('read_us', 0):,.0f} "
                f"| {t.get('build_us', 0):,.0f} | {t.get('write_us', 0):,.0f} |"
            )
        print()
    if connect_rows:
        print(
            f"connect + authenticate + subscribe, {CONNECT_IN_FLIGHT} at a time, after a "
            "warm-up: per second, timed in the load clients from their common start to the "
            f"last reply (the median of a row's rounds, taken over {CONNECT_PASSES} passes through "
            f"the sizes, {CONNECT_ROUND_MIN:,} connections a row at least), and the server's CPU "
            "per connection over all its rounds (µs; the hub's includes writing and reading "
            "back the device.status event each connection causes):"
        )
        print()
        print(
            "| clients | raw: connect only | hub: store | hub: a session room "
            "| CPU raw | CPU hub, store | CPU hub, session |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, raw, store, session, raw_cpu, store_cpu, session_cpu in connect_rows:
            print(
                f"| {label} | {raw:,.0f} | {store:,.0f} | {session:,.0f} "
                f"| {raw_cpu:,.0f} | {store_cpu:,.0f} | {session_cpu:,.0f} |"
            )
        print()
        raw_rates = [r[1] for r in connect_rows]
        raw_cpus = [r[4] for r in connect_rows]
        print(
            f"raw connects (the box's own spread): rates {max(raw_rates) / min(raw_rates) - 1:.0%}"
            f" apart, CPU per connection {max(raw_cpus) / min(raw_cpus) - 1:.0%} apart"
        )
        for column, index in (("store", 2), ("a session room", 3)):
            values = [r[index] for r in connect_rows]
            cpus = [r[index + 3] for r in connect_rows]
            print(
                f"hub to {column}: rates {max(values) / min(values) - 1:.0%} apart, CPU per "
                f"connection {max(cpus) / min(cpus) - 1:.0%} apart (target: flat within 20 %)"
            )
            thousand = [r[index] for r in connect_rows if r[0].startswith("1,000 clients")]
            if thousand:
                took = 1000 / thousand[0]
                verdict = "met" if took <= 1.0 else "MISSED"
                print(f"  1,000 clients to {column} in {took:.2f} s (target ≤ 1 s: {verdict})")
        print()
    if storm_result is not None:
        s = storm_result
        verdict = (
            "met"
            if s["all_caught_up_s"] <= TARGET_STORM_SECONDS and not (s["missed"] or s["repeated"])
            else "MISSED"
        )
        print(
            f"reconnect storm: {s['clients']:,} tills dropped at once, reconnected with since "
            f"while 10 orders were placed: all connected and subscribed in "
            f"{s['connected_s']:.2f} s, every event at every till in {s['all_caught_up_s']:.2f} s; "
            f"{s['frames']:,} frames, {s['missed']} missed, {s['repeated']} repeated "
            f"(target ≤ {TARGET_STORM_SECONDS:g} s, none missed or repeated: {verdict})"
        )
        print()
    print(
        f"hub RSS: {rss_empty:.0f} MB with no client, {rss_idle:.0f} MB with {args.idle:,} idle "
        f"subscribers ({(rss_idle - rss_empty) * 1024 / args.idle:.1f} KiB each); "
        f"the last ones connected at {idle_rate:,.0f}/s"
    )
    ratios = {name: h / r for name, r, h in rows}
    for size in ("1,000", "5,000"):
        for wanted, basis in (
            (f"{size} subscribers: p99 from commit (ms)", "from the commit"),
            (f"{size} subscribers: latency p99 (ms)", "from the order POST's start"),
        ):
            if wanted in ratios:
                ratio = ratios[wanted]
                verdict = "met" if ratio <= TARGET_P99_RATIO else "MISSED"
                print(
                    f"target p99 at {size} subscribers <= {TARGET_P99_RATIO}x raw, {basis}: "
                    f"{ratio:.2f}x, {verdict}"
                )
        burst = f"{size} subscribers: burst deliveries/s"
        if burst in ratios:
            verdict = "met" if ratios[burst] >= TARGET_BURST_RATIO else "MISSED"
            print(
                f"target burst at {size} subscribers >= {TARGET_BURST_RATIO}x raw: "
                f"{ratios[burst]:.2f}x, {verdict}"
            )
    verdict = "met" if rss_idle < TARGET_RSS_MB else "MISSED"
    target = f"target RSS at {args.idle:,} subscribers < {TARGET_RSS_MB} MB"
    print(f"{target}: {rss_idle:.0f} MB, {verdict}")


if __name__ == "__main__":
    sys.exit(main())
