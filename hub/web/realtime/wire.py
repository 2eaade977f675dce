"""WebSocket frames built once, and the server socket they are written to directly.

A server's text frame carries no mask and, without compression, is the same
bytes for every client: the fan-out builds it once per room and event and
hands those bytes to each client's transport. ``websockets.broadcast`` builds
the frame again for every connection (a ``Frame`` object, its header, one
``transport.write``); uvicorn's ASGI ``send`` does the same behind a
coroutine. Here a delivery is one ``transport.write`` of bytes that exist
already, and several events of a room that arrive together are one write.

``socket_of(send)`` finds the transport behind an ASGI ``send`` when it is
uvicorn's sans-I/O WebSocket protocol (what ``edgehub serve`` runs) with no
extension negotiated. Anything else (Litestar's wrapped ``send`` in tests, an
other server, permessage-deflate) returns None and frames go through the ASGI
``send`` as before. Only data frames are written directly; the handshake,
pings, pongs and the close frame stay uvicorn's, so its protocol state (which
does not track sent data frames) stays right.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_TEXT_FIN = 0x81
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")
# Chunks of one room's frames end near the transports' high-water mark (64 KiB), so a
# client that stopped reading takes at most one chunk beyond it before its outbox queues.
CHUNK_BYTES = 64 * 1024


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked text frame around ``payload`` (RFC 6455 section 5.2)."""
    size = len(payload)
    if size < 126:
        return _SHORT.pack(_TEXT_FIN, size) + payload
    if size < 1 << 16:
        return _MEDIUM.pack(_TEXT_FIN, 126, size) + payload
    return _LONG.pack(_TEXT_FIN, 127, size) + payload


@dataclass(frozen=True, slots=True)
class Chunk:
    """Frames for a client, in order: ``wire`` as written to a socket, ``texts`` for ASGI."""

    wire: bytes
    texts: tuple[str, ...]


def chunk(text: str) -> Chunk:
    return Chunk(text_frame(text.encode()), (text,))


def chunks(texts: Sequence[str]) -> list[Chunk]:
    """``texts`` as frames joined into chunks of about ``CHUNK_BYTES``, in order."""
    out: list[Chunk] = []
    wires: list[bytes] = []
    start = size = 0
    for i, text in enumerate(texts):
        frame = text_frame(text.encode())
        wires.append(frame)
        size += len(frame)
        if size >= CHUNK_BYTES:
            out.append(Chunk(b"".join(wires), tuple(texts[start : i + 1])))
            wires, start, size = [], i + 1, 0
    if wires:
        out.append(Chunk(b"".join(wires), tuple(texts[start:])))
    return out


@dataclass(frozen=True, slots=True)
class Socket:
    """What a direct write needs of uvicorn's connection: its transport and writability."""

    transport: asyncio.Transport
    # Cleared by uvicorn while the transport is above its high-water mark.
    writable: asyncio.Event


def socket_of(send: Callable[..., Any]) -> Socket | None:
    """The transport behind ``send`` if frames may be written to it directly, else None."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
    except ImportError:  # pragma: no cover - uvicorn is a dependency
        return None
    protocol = getattr(send, "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    if getattr(send, "__func__", None) is not WebSocketsSansIOProtocol.send:
        return None
    conn = getattr(protocol, "conn", None)
    transport = getattr(protocol, "transport", None)
    writable = getattr(protocol, "writable", None)
    if getattr(conn, "extensions", None) or transport is None:
        return None  # compression (or anything else) negotiated: frames differ per client
    if not isinstance(writable, asyncio.Event):
        return None
    return Socket(transport, writable)


def forget_handshake(send: Callable[..., Any], scope: dict[str, Any]) -> None:
    """Let go of the handshake's request and response once the session is signed in.

    uvicorn keeps both (headers parsed twice, as ``websockets`` objects and as
    the scope's list) for the connection's life but reads them only while
    accepting; the session read what it needs (path, query string) at
    connect. About 4 KiB per idle connection, 40 MB at 10,000 clients. Only
    called for a ``send`` that ``socket_of`` recognised.
    """
    protocol = getattr(send, "__self__", None)
    for name in ("request", "response"):
        if hasattr(protocol, name):
            setattr(protocol, name, None)
    scope["headers"] = []
