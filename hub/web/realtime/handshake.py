"""What uvicorn's WebSocket layer does before ``/ws`` sees a connection, brought in line with
the protocol (docs/realtime.md): a client the hub refuses learns why from a close code,
and junk from a client is a warning in the log, not an error with a traceback.

Both are found by fuzzing (tests/fuzz): uvicorn hands the upgrade request to the
``websockets`` handshake parser, whose 8 KiB line limit answered a long ``?token=``
with HTTP 414 instead of close 4401; and it logs an invalid UTF-8 text frame, which
it closes correctly with 1007, as an ERROR with a traceback.
"""

from __future__ import annotations

import logging

from websockets import http11

from hub.web.realtime.protocol import MAX_MESSAGE_BYTES

MAX_HANDSHAKE_LINE = MAX_MESSAGE_BYTES
"""Bytes of the request line (and of each header line) of an upgrade. A ``?token=`` of
any length a client could mean (a JWT is a few hundred bytes) reaches ``/ws`` and is
closed 4401 if it is wrong; past this the request is refused with HTTP 414."""

INVALID_UTF8 = "Invalid UTF-8 sequence received from client."
"""uvicorn's message when a text frame is not UTF-8 (it then closes the socket 1007)."""


class _ClientJunk(logging.Filter):
    """An invalid UTF-8 frame is the client's fault: a one-line warning, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == INVALID_UTF8 and record.levelno >= logging.ERROR:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = "ws_invalid_utf8_frame closed=1007"
            record.exc_info = record.exc_text = None
        return True


def install() -> None:
    """Apply both, once per process (idempotent); ``Realtime`` calls it when built."""
    # websockets documents this module constant (its WEBSOCKETS_MAX_LINE_LENGTH
    # environment variable sets it at import); it is read on every parse.
    http11.MAX_LINE_LENGTH = max(http11.MAX_LINE_LENGTH, MAX_HANDSHAKE_LINE)
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _ClientJunk) for f in logger.filters):
        logger.addFilter(_ClientJunk())
