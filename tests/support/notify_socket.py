"""Reading what a process told systemd's notify socket (READY=1, WATCHDOG=1, STOPPING=1)."""

from __future__ import annotations

import socket


def received(sock: socket.socket) -> list[str]:
    """Every message waiting on the socket, without blocking for more; the socket's
    timeout is what it was before."""
    timeout = sock.gettimeout()
    messages = []
    sock.setblocking(False)
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        return messages
    finally:
        sock.settimeout(timeout)
