"""The ``/ws`` wire protocol: what a client may send, what the hub answers. No I/O.

Client → hub (JSON text frames, at most ``MAX_MESSAGE_BYTES``)::

    {"type": "auth", "token": "<jwt>"}                 first message, if no ?token=
    {"type": "subscribe", "room": "session:12", "since": 1234}
    {"type": "unsubscribe", "room": "session:12"}
    {"type": "ping"}

Hub → client::

    {"type": "subscribed", "room": "...", "seq": <head>}
    {"type": "unsubscribed", "room": "..."}
    {"type": "event", "seq": 1235, "room": "...", "event": "order.updated",
     "data": {...}, "ts": "..."}
    {"type": "pong"}
    {"type": "error", "error": "<code>", "message": "...", ...}

Anything a client sends is parsed here into a ``ClientMessage`` or rejected
with a ``ProtocolError`` naming a stable code, so the connection code never
touches raw JSON and a fuzzer has one function to aim at.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

MAX_MESSAGE_BYTES = 64 * 1024
MAX_ROOM_CHARS = 128
MAX_TOKEN_CHARS = 8192
MAX_SEQ = 2**62

# Close codes. 44xx mirror HTTP statuses, as API.md's 4401/4403/4408 do.
CLOSE_BAD_CLIENT = 4400  # kept sending garbage, or connected with bad parameters
CLOSE_UNAUTHORIZED = 4401  # no valid token (?token=, or a first auth within ws_auth_timeout)
CLOSE_FORBIDDEN = 4403  # the user behind the token is no longer allowed in
CLOSE_TOO_SLOW = 4408  # fell too far behind: reconnect and resubscribe with since
CLOSE_FLOOD = 4429  # sent messages faster than any client needs to
CLOSE_GOING_AWAY = 1001  # the hub is shutting down
CLOSE_INTERNAL = 1011  # a bug on our side; the traceback is in the hub's log

# Error codes of {"type": "error"} frames.
BAD_MESSAGE = "bad_message"
MESSAGE_TOO_LARGE = "message_too_large"
BINARY_NOT_SUPPORTED = "binary_not_supported"
UNKNOWN_TYPE = "unknown_type"
UNKNOWN_ROOM = "unknown_room"
FORBIDDEN_ROOM = "forbidden_room"
TOO_MANY_ROOMS = "too_many_rooms"
NOT_SUBSCRIBED = "not_subscribed"
ALREADY_AUTHENTICATED = "already_authenticated"
RESET = "reset"

_decoder = msgspec.json.Decoder()


class ProtocolError(Exception):
    """A message the hub refuses; ``code`` goes to the client in an error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Auth:
    token: str


@dataclass(frozen=True, slots=True)
class Subscribe:
    room: str
    since: int | None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    room: str


@dataclass(frozen=True, slots=True)
class Ping:
    pass


ClientMessage = Auth | Subscribe | Unsubscribe | Ping


def parse(event: Mapping[str, Any]) -> ClientMessage:
    """One ASGI ``websocket.receive`` event → a client message; ``ProtocolError`` otherwise."""
    text = event.get("text")
    if not isinstance(text, str):
        raise ProtocolError(BINARY_NOT_SUPPORTED, "send JSON in text frames, not binary")
    # len() counts characters, each 1 to 4 bytes in UTF-8: only encode when in doubt.
    if len(text) > MAX_MESSAGE_BYTES // 4 and len(text.encode()) > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            MESSAGE_TOO_LARGE, f"a message may be at most {MAX_MESSAGE_BYTES} bytes"
        )
    try:
        # msgspec rather than json: faster, and it refuses NaN and Infinity.
        doc = _decoder.decode(text)
    except (msgspec.DecodeError, RecursionError):
        # RecursionError: "[[[[..." nested deeper than the decoder goes (found by fuzzing).
        raise ProtocolError(BAD_MESSAGE, "a message must be valid JSON") from None
    if not isinstance(doc, dict):
        raise ProtocolError(BAD_MESSAGE, "a message must be a JSON object")
    kind = doc.get("type")
    if kind == "subscribe":
        return Subscribe(_room(doc), _since(doc))
    if kind == "unsubscribe":
        return Unsubscribe(_room(doc))
    if kind == "ping":
        return Ping()
    if kind == "auth":
        token = doc.get("token")
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            raise ProtocolError(BAD_MESSAGE, "auth needs a token string")
        return Auth(token)
    if not isinstance(kind, str):
        raise ProtocolError(BAD_MESSAGE, 'a message needs a string "type"')
    raise ProtocolError(UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}")


def _room(doc: dict[str, Any]) -> str:
    room = doc.get("room")
    if not isinstance(room, str) or not 0 < len(room) <= MAX_ROOM_CHARS:
        raise ProtocolError(BAD_MESSAGE, 'a subscription needs a "room" string')
    return room


def _since(doc: dict[str, Any]) -> int | None:
    since = doc.get("since")
    if since is None:
        return None
    # bool is an int in Python; a client sending true is confused, not resuming.
    if type(since) is not int or not 0 <= since <= MAX_SEQ:
        raise ProtocolError(BAD_MESSAGE, '"since" must be a non-negative integer seq')
    return since


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))


def subscribed(room: str, seq: int) -> str:
    return _dump({"type": "subscribed", "room": room, "seq": seq})


def unsubscribed(room: str) -> str:
    return _dump({"type": "unsubscribed", "room": room})


PONG = _dump({"type": "pong"})


def error(code: str, message: str, **detail: Any) -> str:
    return _dump({"type": "error", "error": code, "message": message, **detail})


def event_frame(seq: int, room: str, event: str, data_json: str, ts: str) -> str:
    """An event frame around the log's stored JSON, so ``data`` is never re-encoded.

    ``data_json`` is the ``events.data`` column, written as compact JSON by
    ``hub.events.append``: valid JSON text that can be spliced as is.
    """
    return (
        f'{{"type":"event","seq":{seq},"room":{json.dumps(room)},'
        f'"event":{json.dumps(event)},"data":{data_json},"ts":{json.dumps(ts)}}}'
    )
