"""A subscribe costs the same in a room of ten as in a room of a thousand.

Counted, not timed: the hub's own counters (``GET /api/v1/realtime/stats``)
say how many rows a subscription read, how many frames the hub built and how
many writes handed them to clients. The clients here are bare sockets that
never read past what a test asks for, so a thousand of them cost the test
little (the hub's pings, every 20 s, come after the test).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from tests.realtime.conftest import demo_db, log_head, realtime_stats, room_seqs
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess
from tests.support.ws_client import ws_url

pytestmark = pytest.mark.anyio

WORK = ("rows_read", "frames_built", "writes")


@pytest.fixture(scope="module")
def quiet_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A hub of this module's own, with the default pings: the bare clients here
    never answer one, and the counters here must see no other test's clients."""
    hub = HubProcess(demo_db(tmp_path_factory.mktemp("scale") / "edgehub.db")).start()
    yield hub
    hub.stop()


@pytest.fixture(scope="module")
def served_hub(quiet_hub: HubProcess) -> HubProcess:
    """The hub ``tests.conftest``'s ``api`` fixture talks to, in this module."""
    return quiet_hub


class BareClient:
    """One connection over asyncio streams; it reads only when told to."""

    def __init__(self, url: str) -> None:
        self.uri = parse_uri(url)
        self.protocol = ClientProtocol(self.uri, max_size=None)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.pending: list[dict[str, Any]] = []

    async def open(self) -> BareClient:
        self.reader, self.writer = await asyncio.open_connection(self.uri.host, self.uri.port)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.state is State.CONNECTING:
            self.protocol.receive_data(await self.reader.read(65536))
        assert self.protocol.state is State.OPEN
        return self

    def send(self, **message: Any) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    async def reply(self) -> dict[str, Any]:
        """The next text frame (frames that came in the same read wait their turn)."""
        assert self.reader is not None
        while True:
            self.pending.extend(
                json.loads(event.data)
                for event in self.protocol.events_received()
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT
            )
            if self.pending:
                doc: dict[str, Any] = self.pending.pop(0)
                return doc
            self.protocol.receive_data(await asyncio.wait_for(self.reader.read(65536), 5))

    def _flush(self) -> None:
        assert self.writer is not None
        self.writer.write(b"".join(self.protocol.data_to_send()))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()


@contextlib.asynccontextmanager
async def clients() -> AsyncIterator[list[BareClient]]:
    held: list[BareClient] = []
    try:
        yield held
    finally:
        for client in held:
            client.close()


async def settled(hub: HubProcess, api: Api, check: Callable[[dict[str, Any]], bool]) -> None:
    """Until ``check`` holds and the hub is quiet: its whole log delivered, presence
    announcements included (they gather for 50 ms), and no counter moving."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    last: dict[str, Any] = {}
    while True:
        now = realtime_stats(api)
        if now["delivered_to"] == log_head(hub.db) and check(now) and now == last:
            return
        assert loop.time() < deadline, now
        last = now
        await asyncio.sleep(0.2)


async def fill(url: str, held: list[BareClient], count: int, room: str) -> None:
    """``count`` more clients subscribed to ``room``, 50 at a time, replies left unread."""
    for start in range(0, count, 50):
        batch = await asyncio.gather(
            *(BareClient(url).open() for _ in range(min(50, count - start)))
        )
        for client in batch:
            client.send(type="subscribe", room=room)
        held.extend(batch)


def work(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in WORK}


async def test_subscribing_the_thousandth_costs_what_the_tenth_did(
    quiet_hub: HubProcess, api: Api
) -> None:
    """Tills joining a busy room: rows read, frames built, writes, all flat in the room's size."""
    room = f"session:{api.open_session()}"
    url = ws_url(quiet_hub.url, token=api.token("ana"))
    costs: dict[int, dict[str, int]] = {}
    async with clients() as held:
        for size in (10, 1000):
            await fill(url, held, size - 1 - len(held), room)
            probe = await BareClient(url).open()
            held.append(probe)
            await settled(quiet_hub, api, lambda s, n=size - 1: s["subscriptions"] == n)
            before = realtime_stats(api)
            probe.send(type="subscribe", room=room)
            assert (await probe.reply())["type"] == "subscribed"
            costs[size] = work(before, realtime_stats(api))
        # Leaving is as cheap: an unsubscribe of one of a thousand, then a disconnect.
        await settled(quiet_hub, api, lambda s: s["subscriptions"] == 1000)
        before = realtime_stats(api)
        probe.send(type="unsubscribe", room=room)
        assert (await probe.reply())["type"] == "unsubscribed"
        held[0].close()
        await settled(quiet_hub, api, lambda s: s["subscriptions"] == 998)
        leaving = work(before, realtime_stats(api))
    # The user, the session (a cashier's right to it), the log's two bounds;
    # nothing built or written for the others.
    assert costs[10] == costs[1000] == {"rows_read": 4, "frames_built": 0, "writes": 0}
    assert leaving == {"rows_read": 0, "frames_built": 0, "writes": 0}


async def test_an_event_is_built_once_per_room_and_written_once_per_member(
    quiet_hub: HubProcess, api: Api
) -> None:
    """A new device's presence reaches every ``devices`` member: one frame built, one write each."""
    url = ws_url(quiet_hub.url, token=api.token("marco"))
    seen: dict[int, dict[str, int]] = {}
    async with clients() as held:
        for members in (10, 300):
            await fill(url, held, members - len(held), "devices")
            await settled(quiet_hub, api, lambda s, n=members: s["subscriptions"] == n)
            before = realtime_stats(api)
            newcomer = await BareClient(ws_url(quiet_hub.url, token=api.token("ana"))).open()
            await settled(quiet_hub, api, lambda s, w=before["writes"]: s["writes"] > w)
            seen[members] = work(before, realtime_stats(api))
            newcomer.close()
            await settled(quiet_hub, api, lambda s, c=before["clients"]: s["clients"] == c)
    # Its device.status: one frame for the room, one write per member, nothing read.
    assert seen[10] == {"rows_read": 0, "frames_built": 1, "writes": 10}
    assert seen[300] == {"rows_read": 0, "frames_built": 1, "writes": 300}


async def test_a_device_coming_online_costs_store_members_nothing(
    quiet_hub: HubProcess, api: Api
) -> None:
    """Presence is not in ``store``: N managers' screens connecting are N frames, not N²."""
    url = ws_url(quiet_hub.url, token=api.token("marco"))
    async with clients() as held:
        await fill(url, held, 300, "store")
        await settled(quiet_hub, api, lambda s: s["subscriptions"] == 300)
        before = realtime_stats(api)
        head = log_head(quiet_hub.db)
        newcomer = await BareClient(ws_url(quiet_hub.url, token=api.token("ana"))).open()
        held.append(newcomer)
        # Its device.status is in the log (and delivered), and no store member got a frame.
        await settled(
            quiet_hub,
            api,
            lambda s: s["clients"] == before["clients"] + 1 and log_head(quiet_hub.db) > head,
        )
        assert work(before, realtime_stats(api)) == {"rows_read": 0, "frames_built": 0, "writes": 0}


async def test_a_reconnect_replays_a_short_gap_without_reading_the_log(
    quiet_hub: HubProcess, api: Api
) -> None:
    """Every till back after a blip: the events it missed come from the tailer's memory
    (``hub.web.realtime.recent``), not from a scan of the log per till."""
    session_id = api.open_session()
    room = f"session:{session_id}"
    url = ws_url(quiet_hub.url, token=api.token("ana"))
    async with clients() as held:
        till = await BareClient(url).open()
        held.append(till)
        till.send(type="subscribe", room=room)
        since = (await till.reply())["seq"]
        till.close()
        for _ in range(3):
            await asyncio.to_thread(api.create, session_id)
        missed = room_seqs(quiet_hub.db, room, after=since)
        await settled(quiet_hub, api, lambda s: s["subscriptions"] == 0)
        before = realtime_stats(api)
        back = await BareClient(url).open()
        held.append(back)
        back.send(type="subscribe", room=room, since=since)
        assert (await back.reply())["type"] == "subscribed"
        replayed = [(await back.reply())["seq"] for _ in missed]
        spent = work(before, realtime_stats(api))
    assert replayed == missed
    # The admission's four rows by key, and nothing read to find the missed events.
    assert spent == {"rows_read": 4, "frames_built": len(missed), "writes": len(missed)}
