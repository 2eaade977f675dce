"""A lean HTTP/1.1 load client: raw asyncio streams, keep-alive, a few connections.

httpx saturates near 1.3k req/s on one core (reference/baselines.md), about
what the server does, so it would measure itself. This client writes prebuilt
request bytes and reads just enough of the answer (status, Content-Length) to
know it is complete; each request's latency is taken from write to last byte.
Run it in its own process, pinned to another core than the server
(``run_load`` does both), and read its CPU time beside the figures.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import resource
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoadResult:
    latencies: list[float]  # seconds, in completion order
    statuses: dict[int, int]
    wall: float
    client_cpu: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def _request(path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()


async def _connection(
    host: str, port: int, requests: list[bytes], out: list[float], statuses: dict[int, int],
    interval: float | None, offset: float,
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection(host, port)
    begin = time.perf_counter() + offset
    try:
        for n, request in enumerate(requests):
            started = time.perf_counter()
            if interval is not None:
                # Open loop: each request has its time. Behind schedule (slow answers),
                # latency counts from that time, so a slow answer also charges the ones
                # queued behind it; on schedule, from the send, so the client's own
                # timer lateness (asyncio wakes up to ~1 ms late) is not charged.
                due = begin + n * interval
                if due > started:
                    await asyncio.sleep(due - started)
                    started = time.perf_counter()
                else:
                    started = due
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            out.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _run(
    host: str, port: int, paths: list[str], token: str, connections: int, rate: float | None
) -> tuple[list[float], dict[int, int], float]:
    requests = [_request(p, token) for p in paths]
    shares = [requests[i::connections] for i in range(connections)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    interval = connections / rate if rate else None
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _connection(host, port, share, latencies, statuses, interval, i / (rate or 1))
            for i, share in enumerate(shares)
        )
    )
    return latencies, statuses, time.perf_counter() - started


def _child(
    conn: mp.connection.Connection, host: str, port: int, paths: list[str], token: str,
    connections: int, cpu: int | None, rate: float | None,
) -> None:  # fmt: skip
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    before = resource.getrusage(resource.RUSAGE_SELF)
    latencies, statuses, wall = asyncio.run(_run(host, port, paths, token, connections, rate))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    conn.send(json.dumps([latencies, statuses, wall, cpu_used]))
    conn.close()


def run_load(
    port: int,
    paths: list[str],
    token: str,
    *,
    connections: int = 4,
    cpu: int | None = None,
    rate: float | None = None,
    host: str = "127.0.0.1",
) -> LoadResult:
    """GET every path once, spread over ``connections`` keep-alive connections, from a
    child process (pinned to ``cpu`` when given): as fast as answers come (closed
    loop), or at ``rate`` requests a second in all (open loop)."""
    parent, child = mp.Pipe(duplex=False)
    proc = mp.get_context("fork").Process(
        target=_child, args=(child, host, port, paths, token, connections, cpu, rate)
    )
    proc.start()
    latencies, statuses, wall, cpu_used = json.loads(parent.recv())
    proc.join()
    return LoadResult(latencies, {int(k): v for k, v in statuses.items()}, wall, cpu_used)
