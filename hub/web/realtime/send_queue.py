"""One connection's outgoing frames: written at once when the socket takes them, else queued.

The fan-out hands each chunk of frames to thousands of outboxes in one plain
loop, so ``deliver`` must never wait. Two ways out:

* under ``edgehub serve`` (``wire.socket_of`` recognises uvicorn's sans-I/O
  protocol) the chunk's WebSocket bytes, built once for every client, go
  straight to the transport: one ``transport.write``, nothing else per client;
* anywhere else, each text goes through the ASGI ``send``, whose coroutine is
  started by hand: under uvicorn it completes in that first step while the
  transport is writable, so a frame costs no task switch.

Either way, a client whose socket is full (the transport above its
high-water mark, or a ``send`` that suspended) is slow: later frames queue
behind it in a bounded backlog, this outbox's drain task writes them as the
socket takes them, and the fan-out moves on to the next client. A task per
connection, woken per frame, cost ~25 % more CPU per delivery (measured, see
docs/benchmarks.md); ``asyncio.gather`` costs 3-4x.

A client whose backlog overflows, or whose socket takes nothing for
``stall_timeout`` seconds, is given up on: ``on_give_up(code, reason)`` is
called once and the owner closes the connection with 4408.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable, Coroutine, Generator, Iterator
from typing import Any

from hub.web.realtime import wire
from hub.web.realtime.protocol import CLOSE_TOO_SLOW
from hub.web.realtime.wire import Chunk, Socket, socket_of

Message = dict[str, Any]
Send = Callable[[Message], Coroutine[Any, Any, None]]


class _Resume:
    """Awaitable rest of a coroutine that was stepped by hand and suspended on ``pending``.

    Awaited inside a task, it hands the task the future the coroutine is
    waiting for, and passes results and exceptions (cancellation included)
    back into the coroutine, exactly as ``await coro`` would have.
    """

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, None], pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, None]:
        coro, value = self._coro, self._pending
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    value = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = coro.send(sent)
                except StopIteration:
                    return


class Outbox:
    """Ordered, bounded delivery of text frames to one client."""

    __slots__ = (
        "_backlog",
        "_closed",
        "_drain",
        "_limit",
        "_on_give_up",
        "_queued",
        "_send",
        "_socket",
        "_space",
        "_stall_timeout",
    )

    def __init__(
        self,
        send: Send,
        *,
        limit: int,
        stall_timeout: float,
        on_give_up: Callable[[int, str], None],
    ) -> None:
        self._send = send
        self._socket = socket_of(send)
        self._limit = limit
        self._stall_timeout = stall_timeout
        self._on_give_up = on_give_up
        # Made when first needed: an empty deque is ~600 bytes, times every idle client.
        self._backlog: collections.deque[Chunk] | None = None
        self._queued = 0  # frames in the backlog
        self._drain: asyncio.Task[None] | None = None
        self._space: asyncio.Event | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def direct(self) -> bool:
        """Whether frames go straight to the transport (``wire``) rather than through ``send``."""
        return self._socket is not None

    @property
    def backlog(self) -> int:
        """Frames waiting behind a send the client has not taken yet."""
        return self._queued

    def push(self, frame: str) -> bool:
        """Hand the text ``frame`` to the client after everything pushed before it."""
        if self._socket is None:
            return self.deliver(Chunk(b"", (frame,)))
        return self.deliver(wire.chunk(frame))

    def deliver(self, chunk: Chunk) -> bool:
        """Hand ``chunk``'s frames to the client, in order; never waits.

        The fan-out passes one chunk to every subscriber of a room. Returns
        False once the outbox is closed (peer gone or given up on).
        """
        if self._closed:
            return False
        if self._drain is not None:
            return self._enqueue(chunk)
        socket = self._socket
        if socket is None:
            return self._deliver_asgi(chunk.texts)
        transport = socket.transport
        if transport.is_closing():
            # The peer is gone or uvicorn closed the socket; the reader sees
            # the disconnect and cleans up.
            self._closed = True
            return False
        if socket.writable.is_set():
            try:
                transport.write(chunk.wire)
            except Exception:
                # Never raise into the fan-out's loop: the members after this
                # one would miss the chunk, and a retry would repeat it to the
                # ones before.
                self._closed = True
                return False
            return True
        # Above the high-water mark: the client is slow. Queue behind it.
        self._queue().append(chunk)
        self._queued += len(chunk.texts)
        self._drain = asyncio.get_running_loop().create_task(self._drain_socket(socket))
        return True

    def _enqueue(self, chunk: Chunk) -> bool:
        if self._queued + len(chunk.texts) > self._limit:
            self._give_up(f"fell more than {self._limit} frames behind")
            return False
        self._queue().append(chunk)
        self._queued += len(chunk.texts)
        return True

    def _deliver_asgi(self, texts: tuple[str, ...]) -> bool:
        """Through the ASGI ``send``, each send started by hand (see the module's docstring)."""
        for i, text in enumerate(texts):
            coro = self._send({"type": "websocket.send", "text": text})
            try:
                pending = coro.send(None)
            except StopIteration:
                continue
            except Exception:
                # The peer is gone (uvicorn's ClientDisconnected); the reader sees
                # the disconnect and cleans up.
                self._closed = True
                return False
            rest = texts[i + 1 :]
            if rest:
                self._queue().append(Chunk(b"", rest))
                self._queued += len(rest)
            self._drain = asyncio.get_running_loop().create_task(
                self._drain_asgi(_Resume(coro, pending))
            )
            return True
        return True

    def _queue(self) -> collections.deque[Chunk]:
        if self._backlog is None:
            self._backlog = collections.deque()
        return self._backlog

    def _took(self, chunk: Chunk) -> None:
        self._queued -= len(chunk.texts)
        if self._space is not None and self._queued <= self._limit // 2:
            self._space.set()

    async def _drain_socket(self, socket: Socket) -> None:
        """Write the backlog as the socket takes it, until the client keeps up again."""
        transport, writable = socket.transport, socket.writable
        backlog = self._queue()
        with self._draining():
            while backlog:
                if not writable.is_set():
                    async with asyncio.timeout(self._stall_timeout):
                        await writable.wait()
                if self._closed or not backlog:
                    return
                if transport.is_closing():
                    self._closed = True
                    return
                chunk = backlog.popleft()
                self._took(chunk)
                transport.write(chunk.wire)

    async def _drain_asgi(self, first: _Resume) -> None:
        """Finish the suspended send, then send the backlog, until the client keeps up again."""
        with self._draining():
            async with asyncio.timeout(self._stall_timeout):
                await first
            backlog = self._queue()
            while backlog:
                chunk = backlog.popleft()
                self._took(chunk)
                for text in chunk.texts:
                    async with asyncio.timeout(self._stall_timeout):
                        await self._send({"type": "websocket.send", "text": text})

    @contextlib.contextmanager
    def _draining(self) -> Iterator[None]:
        """Around a drain task: a stall gives the client up, any other failure closes it."""
        try:
            yield
        except TimeoutError:
            self._give_up(f"took no data for {self._stall_timeout:g} s")
        except Exception:
            self._closed = True
        finally:
            # No await between a drain's empty-backlog check and this line: a push
            # in between is impossible, so order is kept when push goes direct again.
            self._drain = None
            if self._space is not None:
                self._space.set()

    async def wait_for_space(self) -> None:
        """Return once at most half the backlog is used, so a replay cannot overflow it."""
        while self._drain is not None and not self._closed:
            if self._queued <= self._limit // 2:
                return
            if self._space is None:
                self._space = asyncio.Event()
            self._space.clear()
            await self._space.wait()

    def _give_up(self, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        if self._backlog is not None:
            self._backlog.clear()  # a drain task holding it stops
            self._backlog = None
        self._queued = 0
        if self._space is not None:
            self._space.set()
        self._on_give_up(CLOSE_TOO_SLOW, reason)

    async def aclose(self) -> None:
        """Stop sending: drop the backlog, cancel a blocked send and wait for it to end."""
        self._closed = True
        if self._backlog is not None:
            self._backlog.clear()  # a drain task holding it stops
            self._backlog = None
        self._queued = 0
        drain = self._drain
        if drain is not None and drain is not asyncio.current_task():
            drain.cancel()
            try:
                await drain
            except asyncio.CancelledError:
                current = asyncio.current_task()
                # Re-raise only a cancellation aimed at us, not the one we sent.
                if current is not None and current.cancelling():
                    raise
