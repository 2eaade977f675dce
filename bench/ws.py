"""``python -m bench.ws``: the hub's WebSocket fan-out beside a raw ``websockets.broadcast``.

One run starts a real ``edgehub serve`` (demo store, fresh database) and the
minimal baseline server of ``bench.ws_baseline``, both pinned to the first
CPU, and load clients in separate processes on the other CPUs. It prints:

* connections accepted per second (for the hub: handshake, token check and
  subscription answered);
* with 1,000 and 5,000 subscribers of one room: per-client latency p50/p99
  of one event, from the trigger (the baseline: its ``fire`` message; the
  hub: the start of an order POST, so the order is validated and committed
  with its event before any fan-out) to the frame's arrival, and p99 from
  the commit (the POST answered); the server's CPU time per delivery;
  deliveries per second for a burst (the hub: orders POSTed by four tills at
  once); each with the hub/baseline ratio;
* the hub's RSS with 10,000 idle connections.

Rounds of hub and baseline alternate, so drift on a shared box hits both.
Targets: p99 at 1,000 subscribers within 1.25x the baseline; 10,000
connections under 400 MB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect as sync_connect

from bench import ws_clients
from bench.workload import cpu_seconds, free_port, rss_mib

ROOT = Path(__file__).resolve().parents[1]
TARGET_P99_RATIO = 1.25
TARGET_RSS_MB = 400


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

    def spread(self, command: str, total: int, *args: Any) -> list[Any]:
        """``command(group, url, share, room)`` with ``total`` split across processes."""
        shares = [
            total // len(self.pipes) + (i < total % len(self.pipes)) for i in range(len(self.pipes))
        ]
        name, url, room = args
        for pipe, share in zip(self.pipes, shares, strict=True):
            pipe.send((command, (name, url, share, room)))
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
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEHUB_")}
        self.env.update(
            EDGEHUB_DB=str(workdir / "edgehub.db"),
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
    """The hub as a till sees it: a token, a session, orders that carry ``t0`` in their note."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        r = self.http.post("/api/v1/auth/token", json={"login": "marco", "pin": "9999"})
        self.token = r.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.ws_url = url.replace("http://", "ws://") + f"/ws?token={self.token}"
        self.pool = ThreadPoolExecutor(max_workers=4)

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
            "note": str(t0),
        }
        r = self.http.post("/api/v1/orders", json=body)
        assert r.status_code == 201, r.text

    def frame_bytes(self, session_id: int) -> int:
        """Size of an order.created event frame, for the baseline to send as much."""
        self.order(session_id, time.monotonic_ns())
        item = self.http.get("/api/v1/events?since=0&limit=500").json()["items"][-1]
        frame = {"type": "event", "room": f"session:{session_id}", **item}
        return len(json.dumps(frame, separators=(",", ":")))


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


def connect(clients: Clients, group: str, url: str, count: int, room: str | None) -> float:
    """Open ``count`` connections of ``group``; connections accepted per second."""
    started = time.perf_counter()
    results = clients.spread("connect", count, group, url, room)
    failures = sum(r["failures"] for r in results)
    if failures:
        print(f"  warning: {failures} {group} connections failed", file=sys.stderr)
    return (count - failures) / (time.perf_counter() - started)


def compare(
    clients: Clients,
    rounds: int,
    burst: int,
    fire: dict[str, Callable[[int, int], int]],
    pids: dict[str, int],
) -> dict[str, dict[str, float]]:
    """Alternate baseline and hub rounds: single events, then bursts of ``burst``."""
    out: dict[str, dict[str, Any]] = {
        g: {"p50": [], "p99": [], "p99_event": [], "rates": [], "cpu": 0.0, "n": 0}
        for g in ("raw", "hub")
    }
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
            time.sleep(0.05)
    for _ in range(3):
        for group, o in out.items():
            m = measure(clients, group, burst, lambda t0, g=group: fire[g](t0, burst), pids[group])
            o["rates"].append(m["rate"])
            o["client_cpu"] = max(o["client_cpu"], m["client_cpu"])
            time.sleep(0.2)
    # Per event, p50 and p99 over its clients; then the median over the rounds,
    # so one round disturbed by another process on the box does not decide.
    return {
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ws", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000", help="subscriber counts, comma-separated")
    parser.add_argument("--idle", type=int, default=10_000, help="connections for the RSS figure")
    parser.add_argument("--rounds", type=int, default=21, help="single-event rounds per size")
    parser.add_argument("--burst", type=int, default=20, help="events per burst")
    parser.add_argument("--clients", type=int, default=4, help="load-client processes")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    nofile = raise_nofile()
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus, client_cpus = ({cpus[0]}, set(cpus[1:])) if len(cpus) > 1 else (None, None)
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)
    print(
        f"bench.ws: {len(cpus)} CPUs (servers on {server_cpus}, clients on {client_cpus}), "
        f"RLIMIT_NOFILE {nofile}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as tmp:
        servers = Servers(Path(tmp), server_cpus)
        clients: Clients | None = None
        try:
            hub_proc = servers.start_hub()
            hub = Hub(servers.hub_url)
            session_id = hub.open_session()
            frame_bytes = hub.frame_bytes(session_id)
            raw_proc = servers.start_raw(frame_bytes)
            raw_url = f"ws://127.0.0.1:{servers.raw_port}"
            clients = Clients(args.clients, client_cpus)
            with sync_connect(raw_url, compression=None) as control:

                def fire_raw(t0: int, n: int) -> int:
                    control.send(f"fire {t0} {n}")
                    return time.monotonic_ns()

                fire = {"raw": fire_raw, "hub": lambda t0, n: hub.orders(session_id, t0, n)}
                pids = {"raw": raw_proc.pid, "hub": hub_proc.pid}
                rss_empty = rss_mib(hub_proc.pid)
                rows = run_sizes(clients, sizes, args, fire, pids, raw_url, hub.ws_url, session_id)
            clients.all("close", "raw")
            idle_session = hub.open_session()
            idle_rate = connect(
                clients, "idle", hub.ws_url, args.idle - sizes[-1], f"session:{idle_session}"
            )
            time.sleep(2.0)
            report(rows, sizes, args, frame_bytes, rss_empty, rss_mib(hub_proc.pid), idle_rate)
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
    hub_url: str,
    session_id: int,
) -> list[tuple[str, float, float]]:
    rows: list[tuple[str, float, float]] = []
    held = 0
    for size in sizes:
        add = size - held
        raw_rate = connect(clients, "raw", raw_url, add, None)
        hub_rate = connect(clients, "hub", hub_url, add, f"session:{session_id}")
        held = size
        rows.append((f"connections accepted/s (+{add:,})", raw_rate, hub_rate))
        time.sleep(1.0)  # presence writes of the new connections settle
        r = compare(clients, args.rounds, args.burst, fire, pids)
        raw, hub = r["raw"], r["hub"]
        label = f"{size:,} subscribers:"
        rows.append((f"{label} latency p50 (ms)", raw["p50"], hub["p50"]))
        rows.append((f"{label} latency p99 (ms)", raw["p99"], hub["p99"]))
        rows.append((f"{label} p99 from commit (ms)", raw["p99_event"], hub["p99_event"]))
        rows.append((f"{label} server CPU per delivery (us)", raw["cpu_us"], hub["cpu_us"]))
        rows.append((f"{label} burst deliveries/s", raw["rate"], hub["rate"]))
        print(
            f"  {size:,} subscribers: busiest load-client CPU per measure: raw "
            f"{r['raw']['client_cpu']:.2f} s, hub {r['hub']['client_cpu']:.2f} s",
            flush=True,
        )
    return rows


def report(
    rows: list[tuple[str, float, float]],
    sizes: list[int],
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
    print(
        f"hub RSS: {rss_empty:.0f} MB with no client, {rss_idle:.0f} MB with {args.idle:,} idle "
        f"connections ({(rss_idle - rss_empty) * 1024 / args.idle:.1f} KiB each); "
        f"the last {args.idle - sizes[-1]:,} connected at {idle_rate:,.0f}/s"
    )
    ratios = {name: h / r for name, r, h in rows}
    for wanted, basis in (
        ("1,000 subscribers: p99 from commit (ms)", "from the commit"),
        ("1,000 subscribers: latency p99 (ms)", "from the order POST's start"),
    ):
        if wanted in ratios:
            ratio = ratios[wanted]
            verdict = "met" if ratio <= TARGET_P99_RATIO else "MISSED"
            print(
                f"target p99 at 1,000 subscribers <= {TARGET_P99_RATIO}x raw, {basis}: "
                f"{ratio:.2f}x, {verdict}"
            )
    verdict = "met" if rss_idle < TARGET_RSS_MB else "MISSED"
    target = f"target RSS at {args.idle:,} connections < {TARGET_RSS_MB} MB"
    print(f"{target}: {rss_idle:.0f} MB, {verdict}")


if __name__ == "__main__":
    sys.exit(main())
