"""The only code that speaks HTTP to Odoo.

``OdooClient`` calls model methods over JSON-RPC (``/jsonrpc``, ``object.execute_kw``)
on Odoo 16-18 and over JSON-2 (``/json/2/<model>/<method>``, bearer API key)
on 19, where the legacy endpoints are deprecated. The version comes from the
configuration or from ``detect_version()``.

Every failure leaves this module as one of ``cloud_sync.errors``, translated
in two places only: ``_send`` for the transport (was the request sent? may it
have been committed?) and ``cloud_sync.odoo_errors`` for Odoo's answers (which
exception did Odoo raise?). A foreign exception stays as ``__cause__``.

Why a timeout after sending is ``Ambiguous`` and not ``Retryable``: Odoo does
not stop working on a request whose client went away, so the call may commit
after we gave up. The POS helpers exist for that: ``find_orders`` asks Odoo
whether orders are there before anything is sent again.

A flaky link fails single calls, not Odoo: each call is tried again where it
failed, a few times with short jittered pauses (``retry_pauses``, from the
``sync_retry_pause_seconds`` setting), before its error reaches the agent.
Any call is tried again after a ``Retryable`` that is not ``Ambiguous``
(Odoo ran nothing); only a read (``READS``: version, login, search, read)
also after an ``Ambiguous`` one, since reading twice changes nothing. A push
whose answer was lost is never resent here: the pusher asks Odoo first.
Neither a timeout nor a worker out of CPU time (``WorkerLimit``) is tried
again here: a slow Odoo is not faster a moment later, and the same call
would run as long again.
"""

from __future__ import annotations

import asyncio
import functools
import random
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cloud_sync import odoo_errors
from cloud_sync.errors import Ambiguous, AuthFailed, Rejected, Retryable, SyncError, WorkerLimit
from cloud_sync.payloads import legacy_reference, payload_uuid, uuid_from_reference
from hub.lean_imports import hidden
from hub.logs import get_logger

# httpx would load its command-line client (click, pygments, rich: ~45 ms) (hub.lean_imports).
with hidden("pygments"):
    import httpx

log = get_logger(__name__)

JSON2_SINCE = 19  # Odoo 19 adds /json/2 and deprecates /jsonrpc
SYNC_FROM_UI_SINCE = 18  # pos.order.sync_from_ui replaces create_from_ui

# JSON-2 takes every parameter by name; these are the names of the positional
# parameters of the methods this client calls (record methods start with ids).
_JSON2_PARAMS: dict[str, tuple[str, ...]] = {
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search": ("domain", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "read": ("ids", "fields"),
    "write": ("ids", "vals"),
    "create": ("vals_list",),
    "unlink": ("ids",),
    "action_archive": ("ids",),
    "action_unarchive": ("ids",),
    "context_get": (),
    "create_from_ui": ("orders", "draft"),
    "sync_from_ui": ("orders",),
    "action_pos_session_open": ("ids",),
    "action_pos_session_closing_control": ("ids",),
    "action_pos_session_close": ("ids",),
    "set_opening_control": ("ids", "cashbox_value", "notes"),
    "set_cashbox_pos": ("ids", "cashbox_value", "notes"),
    "post_closing_cash_details": ("ids", "counted_cash"),
    "export_for_ui": ("ids",),
}


def retry_pauses(first: float) -> tuple[float, ...]:
    """Pauses before the 2nd, 3rd and 4th try of a failed call (each jittered to 50-100 %):
    a link that fails one call in three still gets ~99 % of calls through."""
    return (first, 2 * first, 4 * first)


RETRY_PAUSES = retry_pauses(0.05)  # the default of sync_retry_pause_seconds


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The one TLS context of the process, shared by its clients.

    httpx otherwise builds one per client, reading the CA bundle each time (about
    25 ms of CPU): once per agent start, but once per call of ``sync --once``'s
    helpers and of every test that makes a client. Same settings as httpx's own
    default (certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set).
    """
    return httpx.create_ssl_context()


# Calls that change nothing at Odoo: safe to send again even if Odoo may have run them.
READS = frozenset(
    {"version", "authenticate", "context_get", "search", "search_read", "search_count", "read"}
)

T = TypeVar("T")

_ORDER_FIELDS = [
    "id",
    "name",
    "pos_reference",
    "state",
    "amount_total",
    "amount_paid",
    "session_id",
]


@dataclass(frozen=True, slots=True)
class RemoteOrder:
    """A ``pos.order`` as Odoo holds it; ``uuid`` is the hub's, from 18's field or the reference."""

    id: int
    uuid: str | None
    reference: str
    state: str
    session_id: int | None
    amount_total: Decimal
    amount_paid: Decimal
    name: str = ""  # Odoo's own name ("Shop/0001"; "/" until Odoo numbers the order)


@dataclass(frozen=True, slots=True)
class PushResult:
    """What Odoo said about a pushed batch, by hub uuid.

    ``accepted`` maps the uuids Odoo answered for to their ``pos.order`` ids.
    ``skipped`` lists the uuids missing from the answer: Odoo already held
    them in a final state and did nothing (16-18 leave them out silently);
    confirm them with ``find_orders``. ``orders`` is what Odoo holds for the
    accepted ones (state, totals): 18+ answer it, 16/17 answer only ids and
    are read back, since Odoo answers an order it left in draft like any other.
    """

    accepted: dict[str, int]
    skipped: tuple[str, ...]
    orders: dict[str, RemoteOrder] = field(default_factory=dict)


class OdooClient:
    """An async client for one Odoo database, with bounded connections and timeouts."""

    def __init__(
        self,
        url: str,
        db: str,
        login: str,
        api_key: str,
        *,
        version: int | None = None,
        timeout: float = 30.0,
        max_connections: int = 4,
        retry_pauses: Sequence[float] = RETRY_PAUSES,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Odoo URL must be http(s)://host[:port], not {url!r}")
        self.url = url.rstrip("/")
        self.db = db
        self.login_name = login
        self._api_key = api_key
        self._version = version
        self._timeout = timeout
        self._uid: int | None = None
        self._request_id = 0
        self._retry_pauses = tuple(retry_pauses)
        self._jitter = random.Random()
        # Concurrent first calls detect the version and log in once.
        self._version_lock = asyncio.Lock()
        self._login_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            base_url=self.url,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": "edgehub-sync"},
            verify=_tls_context(),
        )

    async def __aenter__(self) -> OdooClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def version(self) -> int | None:
        """The Odoo major version in use: configured, detected, or None before either."""
        return self._version

    @property
    def uid(self) -> int | None:
        """The Odoo user id of the last successful ``login``, or None before one."""
        return self._uid

    # -- version and login ----------------------------------------------------

    async def detect_version(self) -> int:
        """Ask Odoo its major version: ``GET /web/version`` (19+), else ``common.version``."""
        version = await self._retrying(self._web_version, read=True)
        if version is None:
            info = await self._jsonrpc("common", "version", [], read=True)
            version = _major(info.get("server_version_info") if isinstance(info, dict) else None)
        if version is None:
            raise Rejected(f"{self.url} does not answer like Odoo: no version found")
        self._version = version
        return version

    async def _web_version(self) -> int | None:
        # Before 19 this route is missing (404 page) and a website may answer
        # it with HTML and 200; only a JSON body with version_info counts.
        response = await self._send("GET", "/web/version")
        if response.status_code != 200:
            if response.status_code >= 500 or response.status_code == 429:
                raise _status_error(response)
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return _major(body.get("version_info")) if isinstance(body, dict) else None

    async def login(self) -> int:
        """Check the credentials and return the Odoo user id (``uid``) they belong to."""
        version = await self._ensure_version()
        if version >= JSON2_SINCE:
            try:
                context = await self._json2("res.users", "context_get", {}, read=True)
            except Rejected as exc:
                if exc.status != 404:
                    raise
                # res.users/context_get always exists where JSON-2 does: a 404
                # means no such database, or an Odoo older than 19.
                raise AuthFailed(
                    f"no JSON-2 for database {self.db!r} (wrong database, or Odoo < 19?): "
                    f"{exc.message}",
                    status=404,
                ) from exc
            uid = context.get("uid") if isinstance(context, dict) else None
        else:
            uid = await self._jsonrpc(
                "common",
                "authenticate",
                [self.db, self.login_name, self._api_key, {}],
                read=True,
            )
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise AuthFailed(f"Odoo refused login {self.login_name!r} on database {self.db!r}")
        self._uid = uid
        return uid

    async def _ensure_version(self) -> int:
        if self._version is None:
            async with self._version_lock:
                if self._version is None:
                    await self.detect_version()
        assert self._version is not None
        return self._version

    async def _ensure_uid(self) -> int:
        await self._ensure_version()
        if self._uid is None:
            async with self._login_lock:
                if self._uid is None:
                    await self.login()
        assert self._uid is not None
        return self._uid

    # -- model calls ------------------------------------------------------------

    async def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``model.method(*args, **kwargs)`` at Odoo; record methods take the ids first."""
        return await self._call(model, method, list(args), kwargs, None)

    async def search_read(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        """Records matching ``domain``; ``context={"active_test": False}`` shows archived ones."""
        kwargs: dict[str, Any] = {"fields": list(fields)}
        if context:
            kwargs["context"] = dict(context)
        if limit:
            kwargs["limit"] = limit
        if offset:
            kwargs["offset"] = offset
        if order:
            kwargs["order"] = order
        rows = await self._call(model, "search_read", [list(domain)], kwargs, None)
        if not isinstance(rows, list):
            raise Rejected(f"{model}.search_read answered {type(rows).__name__}, not a list")
        return rows

    async def _call(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any],
        time_limit: float | None,
    ) -> Any:
        version = await self._ensure_version()
        read = method in READS
        if version >= JSON2_SINCE:
            params = _json2_params(method, args, kwargs)
            return await self._json2(model, method, params, time_limit, read=read)
        uid = await self._ensure_uid()
        return await self._jsonrpc(
            "object",
            "execute_kw",
            [self.db, uid, self._api_key, model, method, args, kwargs],
            time_limit,
            read=read,
        )

    # -- POS ------------------------------------------------------------------------

    async def find_orders(
        self,
        *,
        uuids: Iterable[str] = (),
        names: Iterable[str] = (),
        references: Mapping[str, str] | None = None,
    ) -> list[RemoteOrder]:
        """The ``pos.order`` rows Odoo holds for these hub uuids or references.

        Asked after an ``Ambiguous`` failure, it tells whether a push was
        committed. Works on every version: 16/17 have no order uuid, so the
        orders are looked up by the references ``order_payload`` gave them
        (``references``: hub uuid → reference), and by the reference used
        before it named the receipt (``payloads.legacy_reference``).
        """
        refs = dict(references or {})
        uuid_list = list(dict.fromkeys([*uuids, *refs]))
        wanted = list(names) + list(refs.values()) + [legacy_reference(u) for u in uuid_list]
        if not wanted:
            return []
        version = await self._ensure_version()
        fields = list(_ORDER_FIELDS)
        domain: list[Any] = [("pos_reference", "in", wanted)]
        if version >= SYNC_FROM_UI_SINCE:
            fields.append("uuid")
            if uuid_list:
                domain = ["|", ("uuid", "in", uuid_list), *domain]
        rows = await self.search_read("pos.order", domain, fields, order="id")
        return [_remote_order(row) for row in rows]

    async def _read_orders(self, ids: list[int]) -> list[RemoteOrder]:
        rows = await self.call("pos.order", "read", ids, list(_ORDER_FIELDS))
        return [_remote_order(row) for row in rows] if isinstance(rows, list) else []

    async def push_orders(
        self, payloads: Sequence[Mapping[str, Any]], *, time_limit: float | None = None
    ) -> PushResult:
        """Send built payloads in one call (one Odoo transaction: all or nothing).

        ``create_from_ui`` on 16/17, ``sync_from_ui`` on 18+. A resend of an
        order Odoo already finalized creates nothing and comes back in
        ``skipped``. ``time_limit`` replaces the client's timeout for this
        call: a big batch takes Odoo longer (its own POS allows 30 s per order).
        """
        if not payloads:
            return PushResult({}, ())
        version = await self._ensure_version()
        new_shape = version >= SYNC_FROM_UI_SINCE
        if any(("data" in p) == new_shape for p in payloads):
            raise ValueError(f"payloads were not built for Odoo {version}")
        keys = [payload_uuid(p) for p in payloads]
        if new_shape:
            answer = await self._call("pos.order", "sync_from_ui", [list(payloads)], {}, time_limit)
            rows = answer.get("pos.order", []) if isinstance(answer, dict) else []
            # 19 also answers a refund's original order: keep only what was sent.
            found = {row["uuid"]: _remote_order(row) for row in rows if row.get("uuid") in keys}
            accepted = {key: remote.id for key, remote in found.items()}
            return PushResult(accepted, tuple(k for k in keys if k not in accepted), found)
        else:
            answer = await self._call(
                "pos.order", "create_from_ui", [list(payloads)], {}, time_limit
            )
            rows = answer if isinstance(answer, list) else []
            accepted = {}
            for row in rows:
                key = uuid_from_reference(row.get("pos_reference") or "")
                if key in keys:
                    accepted[key] = row["id"]
        skipped = tuple(k for k in keys if k not in accepted)
        if not accepted:
            return PushResult(accepted, skipped)
        try:
            # 16/17 answer an order left in draft like any other: read the states.
            remote = await self._read_orders(list(accepted.values()))
        except (Retryable, Rejected) as exc:
            raise Ambiguous(f"pushed, but Odoo's states could not be read: {exc}") from exc
        by_id = {r.id: r for r in remote}
        found = {key: by_id[i] for key, i in accepted.items() if i in by_id}
        return PushResult(accepted, skipped, found)

    async def open_session(self, config_id: int) -> int:
        """The open POS session of ``config_id``, opening one if there is none.

        ``action_pos_session_open`` opens a session on 16/17 without cash
        control; with it (16/17), and always on 18+, the session waits in
        ``opening_control`` for the opening count: ``set_opening_control``
        (``set_cashbox_pos`` on 16) with the balance Odoo carried over from the
        last session's count. 19 moves orders of a closed session only into an
        ``opened`` one. Anything but ``opened`` afterwards is refused here.
        """
        rows = await self.search_read(
            "pos.session",
            [
                ("config_id", "=", config_id),
                ("state", "in", ["opening_control", "opened"]),
                ("rescue", "=", False),
            ],
            ["id", "state"],
            limit=1,
        )
        if rows:
            session_id, state = int(rows[0]["id"]), rows[0]["state"]
        else:
            created = await self.call("pos.session", "create", {"config_id": config_id})
            session_id, state = int(created[0] if isinstance(created, list) else created), ""
        if state == "opened":
            return session_id
        await self.call("pos.session", "action_pos_session_open", [session_id])
        session = await self._session(session_id)
        if session["state"] == "opening_control":
            version = await self._ensure_version()
            method = "set_cashbox_pos" if version <= 16 else "set_opening_control"
            start = float(session.get("cash_register_balance_start") or 0.0)
            await self.call("pos.session", method, [session_id], start, "")
            session = await self._session(session_id)
        if session["state"] != "opened":
            raise Rejected(
                f"Odoo left POS session {session_id} in {session['state']!r} after opening it"
            )
        return session_id

    async def close_session(self, session_id: int, cash_delta: Decimal | None = None) -> None:
        """Close a POS session and check that Odoo closed it; ``Rejected`` if it did not.

        With cash control, the counted cash goes first (``post_closing_cash_details``):
        Odoo's opening balance plus ``cash_delta``, the tills' counted minus
        opening cash, so Odoo books the difference the tills found. Odoo may
        refuse that count (``successful: False``, e.g. orders still in draft),
        refuse the closing (a UserError: no loss account on the cash journal),
        or answer the "Force Close Session" wizard and leave the session in
        ``closing_control``: only a session read back as ``closed`` is closed.
        """
        session = await self._session(session_id)
        state, answer = session["state"], None
        if state in ("opening_control", "opened"):
            if cash_delta is not None and await self._cash_control(session):
                start = Decimal(str(session.get("cash_register_balance_start") or 0))
                counted = float(start + cash_delta)
                posted = await self.call(
                    "pos.session", "post_closing_cash_details", [session_id], counted
                )
                # A refusal (draft orders left, or closed by someone else) is an answer,
                # not an error: ``successful`` is False and the count is not recorded.
                if isinstance(posted, dict) and posted.get("successful") is False:
                    raise Rejected(
                        f"Odoo refused the cash count of POS session {session_id}: "
                        f"{posted.get('message') or posted}"
                    )
            answer = await self.call(
                "pos.session", "action_pos_session_closing_control", [session_id]
            )
            state = (await self._session(session_id))["state"]
        if state == "closing_control":
            answer = await self.call("pos.session", "action_pos_session_close", [session_id])
            state = (await self._session(session_id))["state"]
        if state != "closed":
            said = f"; Odoo answered {answer.get('name')!r}" if isinstance(answer, dict) else ""
            raise Rejected(f"Odoo did not close POS session {session_id}: it is {state!r}{said}")

    async def _cash_control(self, session: Mapping[str, Any]) -> bool:
        config = session.get("config_id")
        config_id = config[0] if isinstance(config, list) else config
        rows = await self.call("pos.config", "read", [config_id], ["cash_control"])
        return bool(rows and rows[0].get("cash_control"))

    async def _session(self, session_id: int) -> dict[str, Any]:
        fields = ["state", "config_id", "cash_register_balance_start"]
        rows = await self.call("pos.session", "read", [session_id], fields)
        if not rows:
            raise Rejected(f"pos.session {session_id} does not exist")
        return dict(rows[0])

    # -- the wire -----------------------------------------------------------------------

    async def _retrying(self, attempt: Callable[[], Awaitable[T]], *, read: bool) -> T:
        """``attempt()``, tried again after the failures a flaky link makes (module docstring)."""
        for tries, pause in enumerate((*self._retry_pauses, None), start=1):
            try:
                return await attempt()
            except Retryable as exc:
                if pause is None or not _worth_retrying(exc, read=read):
                    raise
                wait = pause * self._jitter.uniform(0.5, 1.0)
                if exc.retry_after is not None and exc.retry_after > wait:
                    raise  # Odoo asked for a longer pause: the agent's backoff honours it
                log.info(
                    "odoo_call_retried", tries=tries, wait_seconds=round(wait, 3), error=exc.message
                )
                await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last try raises or returns")

    async def _jsonrpc(
        self,
        service: str,
        method: str,
        args: list[Any],
        time_limit: float | None = None,
        *,
        read: bool = False,
    ) -> Any:
        return await self._retrying(
            lambda: self._jsonrpc_once(service, method, args, time_limit), read=read
        )

    async def _jsonrpc_once(
        self, service: str, method: str, args: list[Any], time_limit: float | None
    ) -> Any:
        self._request_id += 1
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": self._request_id,
            "params": {"service": service, "method": method, "args": args},
        }
        response = await self._send("POST", "/jsonrpc", json=body, time_limit=time_limit)
        if response.status_code != 200:
            raise _status_error(response)
        payload = _json_body(response)
        if not isinstance(payload, dict) or ("result" not in payload and "error" not in payload):
            raise Retryable(f"{self.url}/jsonrpc answered something that is not JSON-RPC")
        if "error" in payload:
            raise odoo_errors.from_envelope(payload["error"])
        return payload["result"]

    async def _json2(
        self,
        model: str,
        method: str,
        params: dict[str, Any],
        time_limit: float | None = None,
        *,
        read: bool = False,
    ) -> Any:
        return await self._retrying(
            lambda: self._json2_once(model, method, params, time_limit), read=read
        )

    async def _json2_once(
        self, model: str, method: str, params: dict[str, Any], time_limit: float | None
    ) -> Any:
        headers = {"Authorization": f"bearer {self._api_key}", "X-Odoo-Database": self.db}
        response = await self._send(
            "POST", f"/json/2/{model}/{method}", json=params, headers=headers, time_limit=time_limit
        )
        if response.status_code != 200:
            raise _status_error(response)
        return _json_body(response)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        time_limit: float | None = None,
    ) -> httpx.Response:
        """One HTTP exchange; transport failures become Retryable or Ambiguous here."""
        limit = time_limit if time_limit is not None else self._timeout
        try:
            return await self._http.request(
                method, path, json=json, headers=headers, timeout=httpx.Timeout(limit)
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never left: no connection, or none free in the pool.
            raise Retryable(f"cannot reach Odoo at {self.url}: {exc!r}") from exc
        except httpx.TimeoutException as exc:
            log.warning("odoo_no_answer", path=path, timeout=limit)
            raise Ambiguous(
                f"no answer from Odoo within {limit} s; {path} may have been committed"
            ) from exc
        except httpx.TransportError as exc:
            log.warning("odoo_connection_lost", path=path, error=repr(exc))
            raise Ambiguous(
                f"connection to Odoo lost before its answer; {path} may have been committed: "
                f"{exc!r}"
            ) from exc


def _worth_retrying(exc: Retryable, *, read: bool) -> bool:
    if isinstance(exc, WorkerLimit) or isinstance(exc.__cause__, httpx.TimeoutException):
        return False  # too slow for Odoo, or a slow Odoo: the same call would take as long
    return read or not isinstance(exc, Ambiguous)


def _status_error(response: httpx.Response) -> SyncError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return odoo_errors.from_status(
        response.status_code, body, response.request.url.path, response.headers.get("Retry-After")
    )


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise Retryable(
            f"Odoo answered {response.request.url.path} with something that is not JSON"
        ) from exc


def _json2_params(method: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    if not args:
        return dict(kwargs)
    names = _JSON2_PARAMS.get(method)
    if names is None or len(args) > len(names):
        raise TypeError(f"pass the arguments of {method} by name over JSON-2")
    params = dict(zip(names, args, strict=False))
    if "ids" in params and not isinstance(params["ids"], list):
        params["ids"] = [params["ids"]]
    return {**params, **kwargs}


def _major(version_info: Any) -> int | None:
    """The major version from ``[17, 0, 0, "final", 0, ""]`` or ``["saas~17", 2, ...]``."""
    if not isinstance(version_info, list) or not version_info:
        return None
    head = str(version_info[0]).removeprefix("saas~")
    return int(head) if head.isdigit() else None


def _remote_order(row: Mapping[str, Any]) -> RemoteOrder:
    session = row.get("session_id")
    reference = str(row.get("pos_reference") or "")
    return RemoteOrder(
        id=int(row["id"]),
        uuid=row.get("uuid") or uuid_from_reference(reference),
        reference=reference,
        state=str(row.get("state")),
        session_id=session[0] if isinstance(session, list) else (session or None),
        amount_total=Decimal(str(row.get("amount_total") or 0)),
        amount_paid=Decimal(str(row.get("amount_paid") or 0)),
        name=str(row.get("name") or ""),
    )
