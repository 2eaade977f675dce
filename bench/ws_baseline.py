"""The baseline for bench.ws: a minimal server around ``websockets.broadcast``.

Every connection joins one set; a ``fire <t0> <count>`` text message from any
connection broadcasts ``count`` payloads carrying ``t0`` to all the others.
Same event loop as the hub (uvloop), no compression, nothing else: what a
hand-written fan-out costs on this box, for the hub's figures to be divided by.

Run by bench.ws as ``python -m bench.ws_baseline PORT PAYLOAD_BYTES``.
"""

from __future__ import annotations

import asyncio
import json
import sys

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve


async def main(port: int, payload_bytes: int) -> None:
    clients: set[ServerConnection] = set()
    pad = "x" * max(0, payload_bytes - 40)

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            async for message in ws:
                if isinstance(message, str) and message.startswith("fire "):
                    _, t0, count = message.split()
                    others = clients - {ws}
                    for _ in range(int(count)):
                        broadcast(others, json.dumps({"t0": int(t0), "pad": pad}))
        finally:
            clients.discard(ws)

    async with serve(
        handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=4096
    ):
        await asyncio.Future()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]), int(sys.argv[2])))
