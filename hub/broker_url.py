"""The MQTT broker as ``EDGEHUB_MQTT_URL`` names it, and the TLS context that verifies it.

Parsing needs no MQTT client: the bridge and the printer adapter connect with
it (``firmware_bridge.mqtt``), while ``/health`` and ``edgehub status`` only
knock on the port. Keeping it here lets the web process read the URL without
loading paho.

``mqtts://`` is MQTT over TLS. The broker's certificate and name are always
verified, against the CA file given or else the system's trust store; there
is no switch to turn that off.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
"""The port a URL without one means, by scheme (IANA's for MQTT and MQTT over TLS)."""


class BadCaFile(ValueError):
    """The CA file to verify the broker against cannot be used; nothing was tried."""


@dataclass(frozen=True, slots=True)
class MqttUrl:
    """``mqtt[s]://[user[:password]@]host[:port]``, as EDGEHUB_MQTT_URL gives it.

    ``mqtts`` is MQTT over TLS, on 8883 unless the URL says otherwise.
    """

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> MqttUrl:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("the broker URL must look like mqtt[s]://[user:password@]host[:port]")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ValueError("the broker URL has a bad port") from None
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, username, password, tls=parts.scheme == "mqtts")

    @property
    def scheme(self) -> str:
        return "mqtts" if self.tls else "mqtt"

    def __str__(self) -> str:
        """The URL without its password, for logs."""
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A client context that verifies the broker: against ``ca_file``, else the system's store.

    ``create_default_context`` asks for a certificate that chains to a trusted
    CA and names the host we dialled (check_hostname), over TLS 1.2 or later.
    With ``ca_file``, only that file is trusted: a store's own CA, not every
    public one. Raises BadCaFile when the file cannot be used.
    """
    if ca_file is None:
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    try:
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    except FileNotFoundError:
        raise BadCaFile(f"{ca_file} does not exist") from None
    except ssl.SSLError as exc:
        raise BadCaFile(f"{ca_file} holds no PEM certificate ({exc.reason})") from None
    except OSError as exc:
        raise BadCaFile(f"{ca_file} cannot be read: {exc.strerror}") from None


def broker(url: str, ca_file: Path | None) -> tuple[MqttUrl, ssl.SSLContext | None]:
    """The broker ``url`` names and, for ``mqtts``, the context that verifies it.

    What the bridge, the printer adapter, ``/health`` and ``edgehub status``
    all need before they knock. Raises ValueError for a URL that is not a
    broker's, BadCaFile (a ValueError too) for a CA file that cannot be used.
    """
    parsed = MqttUrl.parse(url)
    return parsed, tls_context(ca_file) if parsed.tls else None
