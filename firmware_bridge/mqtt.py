"""The one adapter between paho-mqtt (threads) and asyncio, for the bridge and the devices.

paho runs its network loop in a thread of its own (``loop_start``) and reconnects
by itself, with a doubling delay. Everything it reports is handed to the event
loop with ``call_soon_threadsafe``; nothing of ours runs on paho's thread. That
also makes the PUBACK bookkeeping safe without a lock: ``publish()`` registers
the message id on the loop right after paho hands it out, and the PUBACK
callback, queued to the same loop, can only run after that.

Two facts from measuring (docs/kitchen.md): paho never sets ``TCP_NODELAY``, so
without it Nagle's algorithm and delayed ACKs add tens of milliseconds to a
small message; and a PUBACK only says the broker has the message, not that any
subscriber got it. Delivery is the device's own ack, tracked in SQLite.

Sessions are clean. The broker is transport, not storage: the kitchen job table
is the only durable queue, and what the broker forgot across a restart is sent
again from there. So paho does not re-send on a new connection what it had not
seen acknowledged on the last one (it would, even with a clean session): the
caller is told, and decides.

``mqtts://`` is MQTT over TLS. The broker's certificate and name are always
verified, against the CA file the link is given or else the system's trust
store; there is no switch to turn that off. A CA file that cannot be used is
an error at construction, before anything connects. A handshake that fails
(the certificate does not verify, the name does not match) is a connection
failure like a refused port: logged as ``mqtt_tls_failed``, and paho tries
again with its doubling delay, since the broker's certificate may yet be
fixed without restarting us.

The URL and the TLS context are ``hub.broker_url``'s (the web process reads
them without paho); ``BadCaFile`` comes from there, raised at construction.

* MqttError              base of what this module raises
    * NotConnected       publish while the link is down: nothing was sent
    * ConnectionLost     the connection went before the PUBACK: the message may or
                         may not be at the broker, and is not sent again
    * PublishTimeout     no PUBACK in time: the message may or may not be at the broker
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from hub.broker_url import MqttUrl, tls_context
from hub.logs import get_logger

log = get_logger("edgehub.mqtt")

PUBLISH_TIMEOUT = 10.0
RECONNECT_MIN_SECONDS = 1
RECONNECT_MAX_SECONDS = 15
# The broker closing a working connection this often within the window is a
# client-id takeover, not a network fault (MqttLink._note_closed).
TAKEOVER_CLOSES = 3
TAKEOVER_WINDOW_SECONDS = 60.0
MAX_INFLIGHT = 100
"""QoS 1 messages on the wire awaiting PUBACK; paho's default of 20 throttles a burst."""

Handler = Callable[[str, bytes], None]


class MqttError(Exception):
    """Base of the errors this adapter raises."""


class NotConnected(MqttError):
    """The link is down; the message was not handed to paho."""


class ConnectionLost(MqttError):
    """The connection ended before the PUBACK; paho will not send the message again."""


class PublishTimeout(MqttError):
    """The broker did not acknowledge the message in time."""


@dataclass(frozen=True, slots=True)
class Will:
    """The message the broker publishes for us when we vanish without a goodbye."""

    topic: str
    payload: bytes
    retain: bool = True


class MqttLink:
    """One MQTT connection, used from asyncio; ``start()`` and ``stop()`` on the loop."""

    def __init__(
        self,
        url: MqttUrl,
        *,
        client_id: str,
        keepalive: int = 15,
        will: Will | None = None,
        ca_file: Path | None = None,
    ) -> None:
        """``ca_file``: what an ``mqtts`` broker's certificate must chain to (None: the
        system's trust store); raises BadCaFile when it cannot be used."""
        self.url = url
        self.keepalive = keepalive
        self.publish_timeout = PUBLISH_TIMEOUT
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        if url.tls:
            self._client.tls_set_context(tls_context(ca_file))
        elif ca_file is not None:
            log.warning("mqtt_ca_file_unused", broker=str(url), tls=False)
        if url.username is not None:
            self._client.username_pw_set(url.username, url.password)
        if will is not None:
            self._client.will_set(will.topic, will.payload, qos=1, retain=will.retain)
        self._client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)
        self._client.max_inflight_messages_set(MAX_INFLIGHT)
        self._client.on_socket_open = self._on_socket_open
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._subscriptions: list[tuple[str, Handler]] = []
        self._connect_hooks: list[Callable[[], None]] = []
        self._inflight: dict[int, asyncio.Future[None]] = {}
        self._unacked_subscriptions: set[int] = set()
        self.subscribed = asyncio.Event()
        """Set once the broker has answered every subscription of this connection (SUBACK):
        a retained message on those topics is on its way or there is none."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = False
        self.connects = 0
        self._stopping = False
        self._last_failure: str | None = None
        self.client_id = client_id
        self._closed_at: list[float] = []  # closes the broker followed with a prompt accept
        self._closed: float | None = None  # the last close, until the next connect attempt
        self.taken_over = False

    # --- setup, before start() ------------------------------------------------------

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Receive messages matching ``topic_filter`` (QoS 1), from every connection on."""
        self._subscriptions.append((topic_filter, handler))

    def on_connect(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` on the loop after each successful (re)connection and subscription."""
        self._connect_hooks.append(hook)

    # --- running ----------------------------------------------------------------------

    def start(self) -> None:
        """Start connecting in the background; paho retries until the broker answers."""
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self.url.host, self.url.port, keepalive=self.keepalive)
        self._client.loop_start()

    async def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool = False,
        connection: int | None = None,
    ) -> None:
        """Publish at QoS 1 and return once the broker's PUBACK has arrived.

        With ``connection``, only while the link is still on that connection
        (``connects`` then): the check is made in the same step as the hand-off
        to paho, so no reconnection the loop has seen can slip in between. Raises NotConnected
        when the link is down or on another connection, PublishTimeout after
        ``publish_timeout`` seconds without a PUBACK.
        """
        if not self.connected:
            raise NotConnected(f"not connected to {self.url}")
        if connection is not None and connection != self.connects:
            raise NotConnected(f"connection {connection} to {self.url} is gone")
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise NotConnected(f"publish refused by paho: {paho.error_string(info.rc)}")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._inflight[info.mid] = future
        try:
            # Not wait_for: a PUBACK and a cancellation in one loop turn, and 3.11's
            # wait_for would return as if published, the caller never told to stop.
            async with asyncio.timeout(self.publish_timeout):
                await future
        except TimeoutError:
            raise PublishTimeout(f"no PUBACK within {self.publish_timeout:g}s") from None
        finally:
            if self._inflight.get(info.mid) is future:
                del self._inflight[info.mid]

    async def stop(self) -> None:
        """Disconnect cleanly (no last will) and stop paho's thread."""
        self._stopping = True
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)
        self.connected = False

    # --- paho's thread: hand everything to the loop -------------------------------------

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn, *args)

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        # Before CONNECT goes out: every packet of this connection is sent at once.
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            self._post(self._refused, str(reason))
            return
        # paho re-sends its unacknowledged messages right after this callback.
        # Dropped here instead: a kitchen job re-sent by paho on top of the
        # dispatcher's own re-send after the reconnection would print twice,
        # the second copy without its reprint banner.
        lost = [message.mid for message in client.drop_out_messages()]
        mids = [client.subscribe(topic_filter, qos=1)[1] for topic_filter, _ in self._subscriptions]
        if lost:
            self._post(self._lost, lost)
        # Posted before any SUBACK can be: paho calls on_subscribe from this same thread.
        self._post(self._subscribing, mids)
        self._post(self._connected)

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        # paho calls this from the ``except OSError`` around its connect attempt
        # (loop_forever), so the exception being handled is why: refused, timed
        # out, or the TLS handshake (ssl.SSLError is an OSError).
        self._post(self._connect_failed, sys.exception())

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._post(self._disconnected, str(reason))

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason: Any, properties: Any
    ) -> None:
        self._post(self._puback, mid)

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        refused = [str(reason) for reason in reasons if reason.is_failure]
        self._post(self._subacked, mid, refused)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self._post(self._deliver, message.topic, message.payload)

    # --- on the loop ----------------------------------------------------------------------

    def _subscribing(self, mids: list[int]) -> None:
        self._unacked_subscriptions = set(mids)
        if mids:
            self.subscribed.clear()
        else:
            self.subscribed.set()

    def _subacked(self, mid: int, refused: list[str]) -> None:
        if refused:
            url = str(self.url)
            log.warning("mqtt_subscribe_refused", broker=url, reasons=refused)
        self._unacked_subscriptions.discard(mid)
        if not self._unacked_subscriptions:
            self.subscribed.set()

    def _connected(self) -> None:
        self.connected = True
        self.connects += 1
        self._last_failure = None
        log.info("mqtt_connected", broker=str(self.url), connects=self.connects)
        if self._closed is not None:  # closed, then accepted at the first attempt
            self._note_closed(self._closed)
            self._closed = None
        if self.taken_over and self._loop is not None:
            self._loop.call_later(TAKEOVER_WINDOW_SECONDS, self._still_up)
        for hook in self._connect_hooks:
            try:
                hook()
            except Exception:
                log.exception("mqtt_connect_hook_failed")

    def _connect_failed(self, exc: BaseException | None) -> None:
        """Log why a connection attempt failed; the same reason again only at DEBUG.

        paho tries again after 1, 2, 4 … 15 s for as long as the broker stays
        away; one line per outage, and one per change of reason, is enough.
        """
        self._closed = None  # the broker was away, not busy with another client
        error = f"{type(exc).__name__}: {exc}" if exc is not None else "unknown"
        tls = isinstance(exc, ssl.SSLError)
        if error == self._last_failure:
            level = logging.DEBUG
        else:
            level = logging.ERROR if tls else logging.WARNING
        self._last_failure = error
        event = "mqtt_tls_failed" if tls else "mqtt_connect_failed"
        log.log(level, event, broker=str(self.url), error=error)

    def _refused(self, reason: str) -> None:
        log.error("mqtt_refused", broker=str(self.url), reason=reason)

    def _disconnected(self, reason: str) -> None:
        was = self.connected
        self.connected = False
        self.subscribed.clear()
        if was:
            level = logging.INFO if self._stopping else logging.WARNING
            log.log(level, "mqtt_disconnected", broker=str(self.url), reason=reason)
            if not self._stopping:
                self._closed = time.monotonic()

    def _note_closed(self, now: float) -> None:
        """Tell a client-id takeover from a network fault, and log it as what it is.

        MQTT 3.1.1 has no reason for a close, and Mosquitto closes the older of
        two connections with one client id without a word: to paho that is an
        "Unspecified error". A broker that keeps closing a working connection
        and accepts the next attempt at once (it is up: not a restart, not the
        network) is doing exactly that: another client, a second bridge for
        this store, uses the same id.
        """
        self._closed_at = [t for t in self._closed_at if now - t < TAKEOVER_WINDOW_SECONDS]
        self._closed_at.append(now)
        if len(self._closed_at) >= TAKEOVER_CLOSES and not self.taken_over:
            self.taken_over = True
            log.error(
                "mqtt_client_id_taken_over",
                broker=str(self.url),
                client_id=self.client_id,
                closes=len(self._closed_at),
                within_seconds=TAKEOVER_WINDOW_SECONDS,
                hint="another client logs in with this client id: a second copy of this "
                "process for the same store (another database or another box); stop it",
            )

    def _still_up(self) -> None:
        """A connection that lasted a whole window ends a takeover episode."""
        if self.connected and self.taken_over and not self._closed_at_recent():
            self.taken_over = False
            log.info("mqtt_client_id_takeover_ended", client_id=self.client_id)

    def _closed_at_recent(self) -> bool:
        now = time.monotonic()
        return any(now - t < TAKEOVER_WINDOW_SECONDS for t in self._closed_at)

    def _lost(self, mids: list[int]) -> None:
        for mid in mids:
            future = self._inflight.pop(mid, None)
            if future is not None and not future.done():
                future.set_exception(ConnectionLost("the connection went before the PUBACK"))

    def _puback(self, mid: int) -> None:
        future = self._inflight.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)

    def _deliver(self, topic: str, payload: bytes) -> None:
        for topic_filter, handler in self._subscriptions:
            if paho.topic_matches_sub(topic_filter, topic):
                try:
                    handler(topic, payload)
                except Exception:
                    log.exception("mqtt_handler_failed", topic=topic)
