"""WebSocket clients that must see every event of their rooms exactly once, however they drop.

Each watcher keeps the highest ``seq`` it has seen and, whenever its socket
ends (its hub killed, a 4408 for reading too slowly), reconnects to any live
hub and subscribes with ``since`` = that seq, as docs/realtime.md tells a
client to. ``stall()`` makes one stop reading its socket for a while: it
answers no ping and takes no frame, like a frozen tablet.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from faultsuite.local_http import TLS
from faultsuite.tills import PINS


@dataclass
class Watcher:
    login: str
    room: str
    seqs: list[int] = field(default_factory=list)
    connects: int = 0
    close_codes: Counter[int | None] = field(default_factory=Counter)
    stalls: int = 0
    resets: int = 0  # the hub said it could not replay from our seq
    _stall_until: float = 0.0

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else 0


class Watchers:
    """The watchers on an event loop thread of their own."""

    def __init__(self, urls: list[str], wanted: list[tuple[str, str]]) -> None:
        self.urls = urls
        self.watchers = [Watcher(login, room) for login, room in wanted]
        self._loop = asyncio.new_event_loop()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchers", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(asyncio.gather(*(self._watch(w) for w in self.watchers)))

    def stall(self, index: int, seconds: float) -> None:
        watcher = self.watchers[index]
        watcher.stalls += 1
        watcher._stall_until = time.monotonic() + seconds

    async def _watch(self, w: Watcher) -> None:
        attempt = 0
        while not self._stop.is_set():
            url = self.urls[attempt % len(self.urls)]
            attempt += 1
            try:
                token = await asyncio.to_thread(self._token, url, w.login)
                ws_url = url.replace("http://", "ws://") + f"/ws?token={token}&client=watch"
                async with connect(ws_url, open_timeout=5, max_queue=64) as ws:
                    w.connects += 1
                    await ws.send(
                        json.dumps({"type": "subscribe", "room": w.room, "since": w.last})
                    )
                    await self._read(w, ws)
                    w.close_codes[ws.close_code] += 1
            except (OSError, TimeoutError, ConnectionClosed, InvalidStatus, httpx.HTTPError):
                await asyncio.sleep(0.2)

    async def _read(self, w: Watcher, ws: ClientConnection) -> None:
        while not self._stop.is_set():
            if time.monotonic() < w._stall_until:
                ws.transport.pause_reading()
                await asyncio.sleep(w._stall_until - time.monotonic())
                ws.transport.resume_reading()
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            if frame.get("type") == "event" and frame.get("room") == w.room:
                w.seqs.append(int(frame["seq"]))
            elif frame.get("type") == "error" and frame.get("error") == "reset":
                w.resets += 1

    @staticmethod
    def _token(url: str, login: str) -> str:
        r = httpx.post(
            url + "/api/v1/auth/token", json={"login": login, "pin": PINS[login]}, verify=TLS
        )
        r.raise_for_status()
        return str(r.json()["access_token"])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(15)
