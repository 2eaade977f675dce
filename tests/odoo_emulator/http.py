"""The emulator on the wire: a raw ASGI app served by uvicorn in a background thread.

Routes, as Odoo answers them:

* ``GET /web/version`` (and ``/json/version``): JSON on 19; the HTML 404 page before.
* ``POST /jsonrpc``: the ``common`` and ``object`` services. Every error of the
  call, business or not, is an HTTP 200 JSON-RPC error envelope
  (``code: 200, message: "Odoo Server Error", data: serialize_exception``).
* ``POST /json/2/<model>/<method>`` (19 only): parameters by name, bearer API
  key; errors are real statuses with a ``serialize_exception`` body.
* anything else: the HTML 404 page.

Faults (see ``faults.FaultPlan``) are applied around the call, in the order a
real deployment would show them: a gateway that is down answers 502 before
Odoo sees anything; a 503 means nothing ran; latency comes before the work;
a worker killed for time commits nothing; a dropped connection comes after
the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from .exceptions import BadRequest, NotFound, SerializationFailure, http_status, serialize_exception
from .faults import Faults
from .rpc import OdooServer

log = logging.getLogger("odoo_emulator.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Response = tuple[int, str, bytes]

HTML = "text/html; charset=utf-8"
JSON = "application/json"
PAGE_404 = (
    b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>"
    b"<h1>Not Found</h1><p>The requested URL was not found on the server.</p></body></html>"
)
PAGE_502 = b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"  # noqa: E501
PAGE_503 = b"<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>\n"  # noqa: E501
SERIALIZATION_FAILURE = "could not serialize access due to concurrent update\n"
CPU_TIME_EXCEEDED = "CPU time limit exceeded."
PUSH_METHODS = ("create_from_ui", "sync_from_ui")


def _json(status: int, payload: Any) -> Response:
    return status, JSON, json.dumps(payload).encode()


class EmulatorApp:
    """The ASGI application in front of one ``OdooServer``."""

    def __init__(self, server: OdooServer, faults: Faults) -> None:
        self.server = server
        self.faults = faults
        self.calls: list[str] = []
        self._calls_lock = threading.Lock()
        self._warned_deprecated = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        method, path = scope["method"], scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        targets = self._targets(path, body)
        with self._calls_lock:
            self.calls.extend(targets[:1])

        plan = self.faults.plan
        applies = plan.applies_to(targets)
        if plan.gateway_down:
            await _respond(send, (502, HTML, PAGE_502))
            return
        if applies and self.faults.roll(plan.error_rate):
            await _respond(send, (503, HTML, PAGE_503))
            return
        if applies and plan.delay:
            # Odoo keeps working on a request whose client gave up: the call
            # below runs and commits even if the client has timed out by then.
            await self._latency(plan.delay)
        limit = plan.worker_limit(_pushed_orders(targets, body)) if applies else None
        if limit == "real":
            # PreforkServer.process_timeout SIGKILLs the worker mid-transaction:
            # PostgreSQL rolls it back and the socket closes unanswered.
            await _drop_connection(send)
            return
        if limit == "cpu":
            # Worker.signal_time_expired_handler raises inside the request: rolled back.
            response = self._error(path, body, Exception(CPU_TIME_EXCEEDED))
        elif applies and self.faults.roll(plan.serialization_failure_rate):
            response = self._error(path, body, SerializationFailure(SERIALIZATION_FAILURE))
        else:
            response = self._route(method, path, headers, body)
        if applies and self.faults.roll(plan.drop_rate):
            await _drop_connection(send)
            return
        await _respond(send, response)

    async def _latency(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the test switches the delay off meanwhile.

        A test clears its faults once it has seen what it waits for; a call
        still in its latency then runs at once, instead of holding up the
        emulator's stop until it is done.
        """
        deadline = time.monotonic() + seconds
        # The switch is flipped from the test's thread: nothing to await here.
        while (left := deadline - time.monotonic()) > 0 and self.faults.plan.delay:  # noqa: ASYNC110
            await asyncio.sleep(min(left, 0.01))

    # -- routing --

    def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        version = self.server.version
        if path in ("/web/version", "/json/version") and version >= 19:
            return _json(200, self.server.web_version())
        if path == "/jsonrpc":
            if method != "POST":
                return 405, HTML, b"<h1>Method Not Allowed</h1>"
            return self._jsonrpc(body)
        if path == "/json/2" or path.startswith("/json/2/"):
            if version < 19:
                return 404, HTML, PAGE_404
            parts = path.split("/")[3:]
            if method != "POST" or len(parts) != 2 or not all(parts):
                exc = NotFound("Did you mean POST /json/2/<model>/<method>?")
                return _json(404, serialize_exception(exc))
            return self._json2(parts[0], parts[1], headers, body)
        return 404, HTML, PAGE_404

    def _targets(self, path: str, body: bytes) -> list[str]:
        """Names a fault plan's ``only`` can match: ``model.method`` and ``method``."""
        if path.startswith("/json/2/"):
            parts = path.split("/")[3:]
            if len(parts) == 2:
                return [f"{parts[0]}.{parts[1]}", parts[1]]
        if path == "/jsonrpc":
            try:
                params = json.loads(body).get("params") or {}
                service, name, args = params["service"], params["method"], params.get("args")
            except (ValueError, KeyError, AttributeError, TypeError):
                return ["jsonrpc"]
            if service == "object" and isinstance(args, list) and len(args) >= 5:
                return [f"{args[3]}.{args[4]}", str(args[4])]
            return [f"{service}.{name}", str(name)]
        return [path]

    def _error(self, path: str, body: bytes, exc: Exception) -> Response:
        if path.startswith("/json/2/"):
            return _json(http_status(exc), serialize_exception(exc))
        try:
            request_id = json.loads(body).get("id")
        except (ValueError, AttributeError):
            request_id = None
        return _json(200, _envelope(request_id, exc))

    def _jsonrpc(self, body: bytes) -> Response:
        try:
            request = json.loads(body)
            params = request["params"]
        except (ValueError, KeyError, TypeError):
            return 400, HTML, b"<h1>Bad Request</h1><p>Invalid JSON data</p>"
        request_id = request.get("id")
        if self.server.version >= 19 and not self._warned_deprecated:
            self._warned_deprecated = True
            log.warning(
                "The /xmlrpc, /xmlrpc/2 and /jsonrpc endpoints are deprecated in Odoo 19 "
                "and scheduled for removal in Odoo 20."
            )
        try:
            service, name, args = params["service"], params["method"], params.get("args", [])
            if service == "common":
                result = self.server.common(name, list(args))
            elif service == "object":
                result = self.server.object(name, list(args))
            else:
                raise KeyError(service)
        except Exception as exc:
            return _json(200, _envelope(request_id, exc))
        return _json(200, {"jsonrpc": "2.0", "id": request_id, "result": result})

    def _json2(self, model: str, name: str, headers: dict[str, str], body: bytes) -> Response:
        try:
            database = headers.get("x-odoo-database")
            if database is not None and database != self.server.dbname:
                raise NotFound("The requested URL was not found on the server.")
            try:
                params = json.loads(body or b"{}")
            except ValueError as exc:
                raise BadRequest(f"could not parse the body as json: {exc}") from exc
            if not isinstance(params, dict):
                raise BadRequest("could not parse the body, expecting a json object")
            authorization = headers.get("authorization", "")
            scheme, _, key = authorization.partition(" ")
            api_key = key.strip() if scheme.lower() == "bearer" else None
            result = self.server.json2(model, name, params, api_key)
        except Exception as exc:
            return _json(http_status(exc), serialize_exception(exc))
        return _json(200, result)


def _pushed_orders(targets: list[str], body: bytes) -> int:
    """How many orders a push carries (0 for any other call)."""
    if not any(t in PUSH_METHODS for t in targets):
        return 0
    try:
        request = json.loads(body)
        if isinstance(request, dict) and "params" in request:  # JSON-RPC execute_kw
            orders = request["params"]["args"][5][0]
        else:  # JSON-2: parameters by name
            orders = request["orders"]
    except (ValueError, KeyError, IndexError, TypeError):
        return 0
    return len(orders) if isinstance(orders, list) else 0


def _envelope(request_id: Any, exc: BaseException) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": 200, "message": "Odoo Server Error", "data": serialize_exception(exc)},
    }


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, response: Response) -> None:
    status, content_type, body = response
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drop_connection(send: Send) -> None:
    """Close the client's connection without writing a byte.

    ASGI has no message for "hang up", so this reaches the transport of
    uvicorn's request cycle, whose bound ``send`` the app was given. Once the
    transport is closed the cycle marks itself disconnected and uvicorn writes
    nothing more, so the client sees exactly a peer that vanished after the
    commit.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("uvicorn's request cycle no longer exposes its transport")
    transport.close()
    for _ in range(100):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopped by an event rather than found stopped by polling.

    uvicorn looks at ``should_exit`` every 100 ms and then pauses another
    100 ms before draining connections: 0.2 s on each emulator a test stops,
    which summed to most of the Odoo tests' wall time. This one wakes the
    moment ``stop`` is called and waits only as long as requests are still
    running. The shutdown itself is uvicorn's: listener closed first, idle
    keep-alive connections closed, a running request allowed to finish
    (within ``timeout_graceful_shutdown``) before its task is cancelled.

    ``main_loop`` and ``shutdown`` replace uvicorn/server.py's ``Server.main_loop``
    and ``Server.shutdown`` (uvicorn 0.55: the same steps, less the 0.1 s sleeps
    and ``_wait_tasks_to_complete``'s polling) and use that class's ``servers``,
    ``server_state``, ``lifespan`` and ``on_tick``: compare them on a uvicorn upgrade.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            # on_tick refreshes the Date header, once a second as uvicorn does.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=1.0)
            counter += 10

    def stop(self) -> None:
        """Ask the server to shut down; safe to call from any thread."""
        self.should_exit = True
        loop, event = self._loop, self._stop
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already finished
                loop.call_soon_threadsafe(event.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        # Idle connections are closed now, busy ones once their request is answered.
        tasks = set(self.server_state.tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=self.config.timeout_graceful_shutdown)
        for task in self.server_state.tasks:
            task.cancel(msg="the Odoo emulator stopped")
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


class HttpThread:
    """uvicorn serving one app on 127.0.0.1 in a daemon thread; stop it to refuse connections."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.port = 0
        self._server: _PromptServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        server = _PromptServer(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="odoo-emulator", daemon=True
        )
        thread.start()
        for _ in range(500):
            if server.started:
                break
            if not thread.is_alive():
                raise RuntimeError("the Odoo emulator failed to start")
            threading.Event().wait(0.01)
        else:
            raise RuntimeError("the Odoo emulator did not start within 5 s")
        # uvicorn owns the listening socket now and closes it on shutdown.
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.stop()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None
