"""Load clients for bench.ws: processes holding thousands of WebSocket connections each.

The clients must cost far less per frame than the servers they measure, or
the benchmark measures them. So a connection here is the ``websockets``
sans-I/O client protocol under a bare ``asyncio.Protocol``: no task, no queue
per connection, frames handled in ``data_received``, and the trigger time
(``t0``, monotonic ns, the same clock in every process of the box) found
with one regex instead of a JSON parse. Hub and baseline frames have the same
size and go through the same code.

Each process runs its own uvloop and answers commands from the driver over a
pipe; connections belong to a *group* (``hub``, ``raw``, ``idle``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast

import uvloop
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

CONNECT_CONCURRENCY = 100
# The order's own note comes before its lines' notes in the hub's frames.
_T0 = re.compile(rb'"(?:t0|note)": ?"?(\d+)')


@dataclass
class Group:
    connections: list[WsClient] = field(default_factory=list)
    latencies: list[int] = field(default_factory=list)
    target = 0
    last_ns = 0
    cpu_at_arm = 0.0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def on_frame(self, data: bytes) -> None:
        if not self.target:
            return
        now = time.monotonic_ns()
        match = _T0.search(data)
        if match is None:
            return
        self.latencies.append(now - int(match[1]))
        self.last_ns = now
        if len(self.latencies) >= self.target:
            self.done.set()


class WsClient(asyncio.Protocol):
    """One WebSocket connection: handshake, optional subscribe, then count frames."""

    def __init__(self, url: str, group: Group) -> None:
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.group = group
        self.transport: asyncio.Transport | None = None
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()
        self.open: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.subscribed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if self.protocol.state is State.OPEN:
                    self.open.set_result(None)
                else:
                    self.open.set_exception(ConnectionError(f"refused: {event.status_code}"))
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                if self.subscribed:
                    self.group.on_frame(event.data)
                else:
                    self.replies.put_nowait(event.data)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.open.done():
            self.open.set_exception(exc or ConnectionError("closed"))

    def send(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self._flush()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _flush(self) -> None:
        assert self.transport is not None
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()


class Pool:
    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.groups: dict[str, Group] = {}

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            command, args = await loop.run_in_executor(None, self.pipe.recv)
            if command == "quit":
                for name in list(self.groups):
                    await self.close(name)
                self.pipe.send(None)
                return
            self.pipe.send(await getattr(self, command)(*args))

    async def ready(self) -> None:
        pass

    async def connect(self, name: str, url: str, count: int, room: str | None) -> dict[str, Any]:
        """Open ``count`` connections (and subscribe each to ``room``); how long it took."""
        group = self.groups.setdefault(name, Group())
        uri = parse_uri(url)
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        failures = 0

        async def one() -> None:
            nonlocal failures
            async with gate:
                try:
                    _, client = await loop.create_connection(
                        lambda: WsClient(url, group), uri.host, uri.port
                    )
                    await asyncio.wait_for(client.open, 30)
                    if room is not None:
                        client.send(json.dumps({"type": "subscribe", "room": room}))
                        reply = json.loads(await asyncio.wait_for(client.replies.get(), 30))
                        assert reply["type"] == "subscribed", reply
                    client.subscribed = True
                except Exception:
                    failures += 1
                    return
            group.connections.append(client)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return {"seconds": time.perf_counter() - started, "failures": failures}

    async def arm(self, name: str, per_connection: int) -> None:
        """Expect ``per_connection`` frames on each connection of the group from now on."""
        group = self.groups[name]
        group.latencies = []
        group.last_ns = 0
        group.done = asyncio.Event()
        group.target = per_connection * len(group.connections)
        group.cpu_at_arm = time.process_time()

    async def collect(self, name: str, within: float) -> dict[str, Any]:
        """Wait for the expected frames (or ``within`` seconds); latencies in ns."""
        group = self.groups[name]
        try:
            async with asyncio.timeout(within):
                await group.done.wait()
        except TimeoutError:
            pass
        result = {
            "latencies": group.latencies,
            "last_ns": group.last_ns,
            "expected": group.target,
            "cpu": time.process_time() - group.cpu_at_arm,
        }
        group.target = 0
        return result

    async def close(self, name: str) -> None:
        group = self.groups.pop(name, None)
        if group is not None:
            for client in group.connections:
                client.close()
            await asyncio.sleep(0.5)


def run(pipe: Connection, cpus: set[int] | None) -> None:
    """Entry point of one client process."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    uvloop.run(Pool(pipe).serve())
