"""Load clients for bench.ws: processes holding thousands of WebSocket connections each.

The clients must cost far less per frame and per connect than the servers
they measure, or the benchmark measures them. So a connection here is a bare
``asyncio.Protocol`` that writes its upgrade request and checks the answer's
status and ``Sec-WebSocket-Accept`` itself, masks what it sends with
``websockets``' C ``apply_mask``, and splits what the server sends into frames
by a few lines of header arithmetic; the trigger time
(``t0``, monotonic ns, the same clock in every process of the box) and the
event's ``seq`` are found with one regex search over the frame in place, no
JSON parse, no copy. Hub and baseline frames have the same size and go
through the same code. Pings are answered, so the hub's keepalive stays on.

Each process runs its own uvloop and answers commands from the driver over a
pipe; connections belong to a *group* (``hub``, ``raw``, ``idle``, ...).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast

import uvloop
from websockets.frames import apply_mask
from websockets.uri import WebSocketURI, parse_uri
from websockets.utils import accept_key, generate_key

# The order's own note comes before its lines' notes in the hub's frames.
_T0 = re.compile(rb'"(?:t0|note)": ?"?(\d+)')
_SEQ = re.compile(rb'"seq":(\d+)')
_EVENT_PREFIXES = (b'{"type":"event"', b'{"t0"')


@dataclass
class Group:
    connections: list[WsClient] = field(default_factory=list)
    latencies: list[int] = field(default_factory=list)
    target = 0
    last_ns = 0
    cpu_at_arm = 0.0
    track_seqs = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def on_event(self, client: WsClient, data: bytes, start: int, end: int) -> None:
        if self.track_seqs:
            match = _SEQ.search(data, start, end)
            if match is not None:
                client.seqs.append(int(match[1]))
        if not self.target:
            return
        match = _T0.search(data, start, end)
        if match is None:
            return
        now = time.monotonic_ns()
        self.latencies.append(now - int(match[1]))
        self.last_ns = now
        if len(self.latencies) >= self.target:
            self.done.set()


class WsClient(asyncio.Protocol):
    """One WebSocket connection: handshake, optional subscribe, then count frames.

    The handshake is written and checked here (RFC 6455 section 4.1: status 101,
    ``Sec-WebSocket-Accept`` matching the key), not by the ``websockets`` client
    protocol, whose request building and generator-based parser cost the load
    clients about as much CPU per connection as the server they measure: the
    connect rates would then time the clients too.
    """

    def __init__(self, uri: WebSocketURI, group: Group) -> None:
        key = generate_key()
        self._accept = accept_key(key).encode()
        self._request = (
            f"GET {uri.resource_name} HTTP/1.1\r\nHost: {uri.host}:{uri.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.is_open = False
        self.group = group
        self.transport: asyncio.Transport | None = None
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()
        self.open: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.seqs: list[int] = []
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self.is_open:
            self._frames(data)
            return
        buf = self._buffer + data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            self._buffer = buf
            return
        head, rest = buf[:end], buf[end + 4 :]
        self._buffer = b""
        status, *lines = head.split(b"\r\n")
        accept = next(
            (
                v.strip()
                for n, _, v in (h.partition(b":") for h in lines)
                if n.strip().lower() == b"sec-websocket-accept"
            ),
            None,
        )
        if not status.startswith(b"HTTP/1.1 101 ") or accept != self._accept:
            self.open.set_exception(ConnectionError(f"refused: {status!r}"))
            self.abort()
            return
        self.is_open = True
        self.open.set_result(None)
        if rest:
            self._frames(rest)

    def _frames(self, data: bytes) -> None:
        """Split the server's (unmasked) frames by their headers; nothing is copied but the tail."""
        buf = self._buffer + data if self._buffer else data
        end = len(buf)
        i = 0
        group = self.group
        while end - i >= 2:
            size = buf[i + 1] & 0x7F
            head = 2
            if size == 126:
                if end - i < 4:
                    break
                size = int.from_bytes(buf[i + 2 : i + 4], "big")
                head = 4
            elif size == 127:
                if end - i < 10:
                    break
                size = int.from_bytes(buf[i + 2 : i + 10], "big")
                head = 10
            stop = i + head + size
            if stop > end:
                break
            opcode = buf[i] & 0x0F
            start = i + head
            if opcode == 1:
                if buf.startswith(_EVENT_PREFIXES, start):
                    group.on_event(self, buf, start, stop)
                else:
                    self.replies.put_nowait(buf[start:stop])
            elif opcode == 9:
                self._send_frame(0x8A, buf[start:stop])
            elif opcode == 8:
                self.close()
            i = stop
        self._buffer = buf[i:] if i < end else b""

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.open.done():
            self.open.set_exception(exc or ConnectionError("closed"))
        if not self.closed.done():
            self.closed.set_result(None)

    def send(self, text: str) -> None:
        self._send_frame(0x81, text.encode())

    def _send_frame(self, first: int, payload: bytes) -> None:
        """One final frame, masked as a client's must be (RFC 6455 section 5.2-5.3)."""
        assert self.transport is not None
        size = len(payload)
        if size < 126:
            head = bytes((first, 0x80 | size))
        elif size < 1 << 16:
            head = bytes((first, 0x80 | 126)) + size.to_bytes(2, "big")
        else:
            head = bytes((first, 0x80 | 127)) + size.to_bytes(8, "big")
        mask = os.urandom(4)
        self.transport.write(head + mask + apply_mask(payload, mask))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


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

    async def connect(
        self,
        name: str,
        urls: list[str],
        room: str | None,
        concurrency: int,
        since: list[int | None] | None = None,
        start_at: int | None = None,
    ) -> dict[str, Any]:
        """Open one connection per URL (and subscribe each to ``room``, from ``since``).

        From ``start_at`` (monotonic ns, the box's one clock) when given, so the
        processes start together; ``last_ns`` is when the last one was open (and
        subscribed): the connect rate is timed here, not across the driver's pipes.
        """
        group = self.groups.setdefault(name, Group())
        loop = asyncio.get_running_loop()
        if start_at is not None:
            await asyncio.sleep(max(0, start_at - time.monotonic_ns()) / 1e9)
        first_ns = time.monotonic_ns()
        cpu0 = time.process_time()
        last_ns = first_ns
        gate = asyncio.Semaphore(concurrency)
        failures = 0
        opened: list[WsClient | None] = [None] * len(urls)

        async def one(i: int, url: str) -> None:
            nonlocal failures, last_ns
            uri = parse_uri(url)
            async with gate:
                try:
                    _, client = await loop.create_connection(
                        lambda: WsClient(uri, group), uri.host, uri.port
                    )
                    await asyncio.wait_for(client.open, 30)
                    if room is not None:
                        message: dict[str, Any] = {"type": "subscribe", "room": room}
                        if since is not None and since[i] is not None:
                            message["since"] = since[i]
                        client.send(json.dumps(message))
                        while True:
                            reply = json.loads(await asyncio.wait_for(client.replies.get(), 30))
                            if reply.get("error") == "reset":
                                continue
                            assert reply["type"] == "subscribed", reply
                            break
                except Exception:
                    failures += 1
                    return
            last_ns = max(last_ns, time.monotonic_ns())
            opened[i] = client

        # No cyclic collection while timed: its full passes walk every connection this
        # process holds, a cost per connect that grows with the clients connected, and
        # the rate would time the load clients' heap rather than the server.
        gc.disable()
        try:
            await asyncio.gather(*(one(i, url) for i, url in enumerate(urls)))
        finally:
            gc.enable()
        group.connections.extend(c for c in opened if c is not None)
        return {
            "first_ns": first_ns,
            "last_ns": last_ns,
            "failures": failures,
            "cpu": time.process_time() - cpu0,
        }

    async def track(self, name: str) -> None:
        """Record the ``seq`` of every event frame the group's connections receive."""
        self.groups[name].track_seqs = True

    async def seqs(self, name: str) -> list[list[int]]:
        return [c.seqs for c in self.groups[name].connections]

    async def drop(self, name: str) -> list[list[int]]:
        """Abort every connection of the group at once (no close frame); their seqs so far."""
        group = self.groups.pop(name)
        for client in group.connections:
            client.abort()
        await asyncio.gather(*(c.closed for c in group.connections))
        return [c.seqs for c in group.connections]

    async def arm(self, name: str, per_connection: int) -> None:
        """Expect ``per_connection`` frames on each connection of the group from now on."""
        group = self.groups[name]
        group.latencies = []
        group.last_ns = 0
        group.done = asyncio.Event()
        group.target = per_connection * len(group.connections)
        group.cpu_at_arm = time.process_time()

    async def arm_new(self, name: str, total: int) -> None:
        """A new group, tracking seqs, expecting ``total`` frames over connections still to open."""
        group = self.groups[name] = Group()
        group.track_seqs = True
        group.target = total
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
