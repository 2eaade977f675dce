"""Hypothesis-made WebSocket frames, below the message layer tests/realtime/test_fuzz.py covers:
any opcode, reserved bits, fragments, control frames, close codes, text that is not UTF-8.
The hub answers or closes with a protocol code, never 1011, and logs no error or traceback."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import local_http
from tests.support.hub_process import HubProcess

TIMEOUT = 3.0


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    """One client frame as RFC 6455 section 5.2 lays it out, masked as a client must."""
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | opcode & 0x0F])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_code_in(data: bytes) -> int | None:
    """The code of the first close frame among the server's (unmasked) frames, if any."""
    i = 0
    while i + 2 <= len(data):
        opcode, size = data[i] & 0x0F, data[i + 1] & 0x7F
        i += 2
        if size == 126:
            size, i = struct.unpack("!H", data[i : i + 2])[0], i + 2
        elif size == 127:
            size, i = struct.unpack("!Q", data[i : i + 8])[0], i + 8
        payload = data[i : i + size]
        i += size
        if opcode == 8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    return None


async def exchange(url: str, token: str, frames: list[bytes]) -> tuple[int, int | None]:
    """Upgrade, send ``frames`` then a normal close; the HTTP status and the hub's close code."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws?token={token} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    writer.write(request.encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    status = int(head.split()[1])
    received = b""
    try:
        for one in [*frames, frame(8, struct.pack("!H", 1000))]:
            writer.write(one)
        await writer.drain()
        async with asyncio.timeout(TIMEOUT):
            while chunk := await reader.read(65536):
                received += chunk
    except (ConnectionError, TimeoutError):
        pass
    finally:
        writer.close()
    return status, close_code_in(received)


utf8_text = st.text(max_size=60).map(str.encode)
messages = st.sampled_from([b'{"type": "ping"}', b'{"type": "subscribe", "room": "store"}'])
payload = st.one_of(utf8_text, messages, st.binary(max_size=150))
frames = st.one_of(
    # data frames of every opcode, reserved ones included, whole or fragmented
    st.builds(
        frame,
        st.integers(0, 15),
        payload,
        fin=st.booleans(),
        rsv=st.sampled_from([0, 0, 0, 1, 4, 7]),
    ),
    # text that is not UTF-8, whole or split mid-character across a fragment
    st.builds(lambda p: frame(1, p), st.binary(min_size=1, max_size=40).map(lambda b: b + b"\xff")),
    st.just(frame(1, b"caf\xc3", fin=False) + frame(0, b"\xa9")),
    # pings and pongs, also over the 125-byte limit of a control frame
    st.builds(frame, st.sampled_from([9, 10]), st.binary(max_size=140)),
    # closes with any code and any reason bytes
    st.builds(
        lambda code, reason: frame(8, struct.pack("!H", code) + reason),
        st.integers(0, 65535),
        st.binary(max_size=20),
    ),
    st.just(frame(8, b"\x03")),  # a close payload of one byte
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(frames, min_size=1, max_size=6))
def test_fuzzed_frames_get_a_protocol_close_never_an_internal_error(
    fuzz_hub: HubProcess, fuzz_tokens: dict[str, str], batch: list[bytes]
) -> None:
    """Whatever a broken client library sends, the hub stays well and the log stays quiet."""
    token = fuzz_tokens["cashier"].removeprefix("Bearer ")
    status, code = asyncio.run(exchange(fuzz_hub.url, token, batch))
    assert status == 101
    assert code != 1011, "the hub closed with an internal error"


def test_the_frame_fuzzing_left_the_hub_well_and_its_log_clean(
    fuzz_hub: HubProcess, fuzz_tokens: dict[str, str]
) -> None:
    """After the junk: the hub answers, and nothing was logged as an error or with a traceback."""
    r = local_http.get(
        f"{fuzz_hub.url}/api/v1/realtime/stats",
        headers={"Authorization": fuzz_tokens["admin"]},
        timeout=5,
    )
    assert r.status_code == 200
    log = fuzz_hub.log.read_text()
    assert "Traceback" not in log, log[max(log.find("Traceback") - 300, 0) :][:3000]
    assert " ERROR " not in log, [line for line in log.splitlines() if " ERROR " in line][:5]
