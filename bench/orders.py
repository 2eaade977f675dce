"""bench.orders: order round trips over HTTP against a bare Litestar insert as the baseline.

    .venv/bin/python -m bench.orders [--rounds 4] [--seconds 5] [--rate 100] [--conns 8]

Prints, in one run:
  * closed loop: create -> validate -> pay round trips per second (C connections),
    in rounds alternating with the baseline; medians, and the ratio of each round
  * open loop at a fixed offered rate: p50/p99 per request and per whole order
  * the same two figures for the baseline endpoint (one comparable SQLite insert)
  * the ratio of hub requests/s to baseline requests/s (each is one transaction)
  * the servers' CPU per request, split between the event loop thread and the others
    (the writer), and how busy their core was (below 100 %: waiting, not computing)
  * the hub's RSS right after start with the demo store
Server and client are pinned to different cores when the box has two.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.http_load import Connection, percentile
from bench.workload import (
    cpu_seconds,
    free_port,
    hub_env,
    main_thread_cpu_seconds,
    rss_mib,
)

SERVER_CPU, CLIENT_CPU = 0, 1
LINES = [
    {"product_id": 1, "qty": "1"},
    {"product_id": 10, "qty": "2"},
    {"product_id": 32, "qty": "1"},
]


def _pinned(cmd: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(SERVER_CPU), *cmd]
    return cmd


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(400):
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.returncode}")
        try:
            httpx.get(url, timeout=0.3)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not start")


Flow = Callable[[Connection], Awaitable[list[tuple[str, float]]]]


@dataclass(frozen=True)
class Target:
    """A server under test and how to drive it."""

    port: int
    token: str | None
    flow: Flow
    requests_per_flow: int
    pid: int


async def closed_loop(target: Target, conns: int, seconds: float) -> dict[str, Any]:
    """Each connection runs flows back to back; counts flows and requests."""
    done = 0
    requests = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, requests
        conn = Connection("127.0.0.1", target.port, target.token)
        await conn.open()
        while time.perf_counter() < deadline:
            steps = await target.flow(conn)
            done += 1
            requests += len(steps)
        await conn.close()

    started = time.perf_counter()
    cpu, loop_cpu = cpu_seconds(target.pid), main_thread_cpu_seconds(target.pid)
    await asyncio.gather(*(worker() for _ in range(conns)))
    elapsed = time.perf_counter() - started
    cpu, loop_cpu = cpu_seconds(target.pid) - cpu, main_thread_cpu_seconds(target.pid) - loop_cpu
    per_request = 1e6 / max(requests, 1)
    return {
        "flows_per_s": done / elapsed,
        "requests_per_s": requests / elapsed,
        "cpu_us_per_request": cpu * per_request,
        "loop_cpu_us_per_request": loop_cpu * per_request,
        "core_busy": cpu / elapsed,
    }


async def open_loop(target: Target, rate: float, seconds: float) -> dict[str, Any]:
    """Start flows on a fixed schedule; latency of a flow counts from its scheduled start."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(32):
        conn = Connection("127.0.0.1", target.port, target.token)
        await conn.open()
        pool.put_nowait(conn)
    per_request: list[float] = []
    per_flow: list[float] = []

    async def one(scheduled: float) -> None:
        conn = await pool.get()
        steps = await target.flow(conn)
        per_flow.append(time.perf_counter() - scheduled)
        per_request.extend(t for _, t in steps)
        pool.put_nowait(conn)

    tasks = []
    start = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        await pool.get_nowait().close()
    ms = 1000
    return {
        "offered_per_s": rate,
        "request_p50_ms": percentile(per_request, 50) * ms,
        "request_p99_ms": percentile(per_request, 99) * ms,
        "flow_p50_ms": percentile(per_flow, 50) * ms,
        "flow_p99_ms": percentile(per_flow, 99) * ms,
    }


def hub_flow(session_id: int) -> Flow:
    async def flow(conn: Connection) -> list[tuple[str, float]]:
        body = {"uuid": str(uuid.uuid4()), "session_id": session_id, "lines": LINES}
        status, order, t1 = await conn.request("POST", "/api/v1/orders", body)
        assert status == 201, (status, order)
        status, order, t2 = await conn.request("POST", f"/api/v1/orders/{order['id']}/validate")
        assert status == 200, (status, order)
        payment = {"payments": [{"method_id": 2, "amount": order["amount_total"]}]}
        status, order, t3 = await conn.request("POST", f"/api/v1/orders/{order['id']}/pay", payment)
        assert status == 200, (status, order)
        return [("create", t1), ("validate", t2), ("pay", t3)]

    return flow


async def baseline_flow(conn: Connection) -> list[tuple[str, float]]:
    body = {"uuid": str(uuid.uuid4()), "lines": LINES}
    status, _, elapsed = await conn.request("POST", "/insert", body)
    assert status == 201, status
    return [("insert", elapsed)]


@contextmanager
def hub_server(tmp: Path, args: argparse.Namespace) -> Iterator[Target]:
    """The hub with the demo store, pinned, with a cashier token and an open session."""
    port = free_port()
    env = hub_env(
        EDGEHUB_DB=str(tmp / "hub.db"),
        EDGEHUB_PORT=str(port),
        EDGEHUB_LOG_LEVEL="warning",
        EDGEHUB_DB_SYNCHRONOUS=args.synchronous,
    )
    subprocess.run(
        [sys.executable, "-m", "hub.cli", "demo"], env=env, check=True, capture_output=True
    )
    proc = subprocess.Popen(_pinned([sys.executable, "-m", "hub.cli", "serve"]), env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url + "/health", proc)
        token = httpx.post(url + "/api/v1/auth/token", json={"login": "ana", "pin": "1234"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        session = httpx.post(
            url + "/api/v1/sessions", json={"terminal": "bench"}, headers=headers
        ).json()
        yield Target(port, token["access_token"], hub_flow(session["id"]), 1, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def baseline_server(tmp: Path, args: argparse.Namespace) -> Iterator[Target]:
    """The bare Litestar insert app, pinned like the hub; three requests stand for one order."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "bench.baseline_app",
        str(tmp / "baseline.db"),
        str(port),
        args.synchronous,
    ]
    proc = subprocess.Popen(_pinned(cmd))
    try:
        _wait(f"http://127.0.0.1:{port}/", proc)
        yield Target(port, None, baseline_flow, 3, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def median(values: list[float]) -> float:
    return statistics.median(values)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Both servers up at once; closed-loop phases alternate hub, baseline, hub, ...

    On a shared box the speed of the moment drifts by tens of percent within a
    minute; alternating short phases gives each side the same drift, and the
    ratio is taken per round, then the median of the rounds.
    """
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        hub = stack.enter_context(hub_server(Path(tmp), args))
        base = stack.enter_context(baseline_server(Path(tmp), args))
        rss_start = rss_mib(hub.pid)
        for target in (hub, base):  # warm both: first connections, caches, statements
            asyncio.run(closed_loop(target, args.conns, 1.0))
        rounds: list[dict[str, Any]] = []
        for _ in range(args.rounds):
            h = asyncio.run(closed_loop(hub, args.conns, args.seconds))
            b = asyncio.run(closed_loop(base, args.conns, args.seconds))
            rounds.append({"hub": h, "base": b, "ratio": h["requests_per_s"] / b["requests_per_s"]})
        hub_open = asyncio.run(open_loop(hub, args.rate, args.seconds))
        base_open = asyncio.run(open_loop(base, args.rate * base.requests_per_flow, args.seconds))
        return {
            "rounds": rounds,
            "hub_open": hub_open,
            "base_open": base_open,
            "rss_start_mib": rss_start,
            "rss_end_mib": rss_mib(hub.pid),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=4, help="hub/baseline closed-loop pairs")
    parser.add_argument("--rate", type=float, default=100, help="offered orders per second")
    parser.add_argument("--conns", type=int, default=8)
    parser.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="SQLite synchronous for hub and baseline alike (the hub's default is FULL)",
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {CLIENT_CPU})
    result = measure(args)
    rounds = result["rounds"]
    hub_rps = median([r["hub"]["requests_per_s"] for r in rounds])
    hub_ops = median([r["hub"]["flows_per_s"] for r in rounds])
    base_rps = median([r["base"]["requests_per_s"] for r in rounds])
    ratios = [r["ratio"] for r in rounds]
    print(
        f"bench.orders  ({args.rounds} rounds of {args.seconds:.0f} s per side,"
        f" {args.conns} connections closed loop, synchronous={args.synchronous})"
    )
    print(
        f"  hub   closed loop: {hub_ops:8.0f} orders/s (create+validate+pay)"
        f"  = {hub_rps:6.0f} req/s  (median of rounds)"
    )
    print(f"  base  closed loop: {base_rps:8.0f} req/s (one insert transaction each)")
    for name in ("hub", "base"):
        cpu = median([r[name]["cpu_us_per_request"] for r in rounds])
        loop = median([r[name]["loop_cpu_us_per_request"] for r in rounds])
        busy = median([r[name]["core_busy"] for r in rounds])
        print(
            f"  {name:5} server CPU: {cpu:6.0f} us per request (event loop {loop:.0f},"
            f" writer and other threads {cpu - loop:.0f}), its core {busy:4.0%} busy"
        )
    print(
        f"  ratio hub/base req/s: {median(ratios):.2f}   (target >= 0.5;"
        f" rounds {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    o, b = result["hub_open"], result["base_open"]
    print(
        f"  hub   at {o['offered_per_s']:.0f} orders/s: request p50 {o['request_p50_ms']:.2f} ms"
        f"  p99 {o['request_p99_ms']:.2f} ms (target < 10);  whole order p50 {o['flow_p50_ms']:.2f}"
        f"  p99 {o['flow_p99_ms']:.2f} ms"
    )
    print(
        f"  base  at {b['offered_per_s']:.0f} req/s:    request p50 {b['request_p50_ms']:.2f} ms"
        f"  p99 {b['request_p99_ms']:.2f} ms"
    )
    print(
        f"  hub RSS after start with demo store: {result['rss_start_mib']:.0f} MiB (target < 120);"
        f" after the run: {result['rss_end_mib']:.0f} MiB"
    )
    results = Path("bench/results")
    results.mkdir(parents=True, exist_ok=True)
    (results / "orders.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
