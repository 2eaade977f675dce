"""Where tills and tablets on the store's LAN reach this hub, for the lines that tell people.

``EDGEHUB_HOST`` is what ``serve`` binds: 127.0.0.1 (the default) is this PC
only, so a tablet cannot connect however right its settings are.
``EDGEHUB_LAN_URL`` is the address the tills are configured with; without it,
the addresses of this PC are guessed from its interfaces.
"""

from __future__ import annotations

import socket

from hub.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ALL = ("0.0.0.0", "::", "")


def own_address() -> str | None:
    """This PC's address on the network it routes through (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # a UDP connect only picks a route
            address: str = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def reach_short(settings: Settings) -> str:
    """The same, in one table cell, for ``edgehub status``."""
    if settings.server.host in LOOPBACK:
        return f"{settings.server.host}: this PC only (EDGEHUB_HOST)"
    if settings.server.lan_url:
        return settings.server.lan_url
    host = own_address() if settings.server.host in ALL else settings.server.host
    return f"http://{host or '<this PC>'}:{settings.server.port} (guessed; EDGEHUB_LAN_URL to set)"


def reach_lines(settings: Settings, host: str, port: int) -> list[str]:
    """What ``serve`` says at start about reaching it from a till."""
    if settings.server.lan_url:
        lines = [f"tills and tablets on the LAN use {settings.server.lan_url} (EDGEHUB_LAN_URL)"]
    elif host in ALL:
        guess = own_address()
        where = f"http://{guess}:{port}" if guess else f"http://<this PC's address>:{port}"
        lines = [f"tills and tablets on the LAN reach it at {where} (set EDGEHUB_LAN_URL to say)"]
    else:
        lines = [f"tills and tablets on the LAN reach it at http://{host}:{port}"]
    if host in LOOPBACK:
        lines = [
            f"only this PC can reach it ({host}): for tills and tablets on the LAN, "
            "serve with --host 0.0.0.0 (or set EDGEHUB_HOST)"
        ]
    return lines
