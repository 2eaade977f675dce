"""What the store's running routes answer, as TypedDicts: devices, the kitchen's jobs and
stations, sync, caches, realtime, scheduled jobs, the dashboard, taxes, categories, users.

The companion of ``hub.web.api.response_bodies`` (orders, catalogue, sessions, the log): each
describes the dict a repository or a counter builds, for the OpenAPI document's
``errors(..., ok=...)``; what is served is unchanged, and the schemathesis run of
``tests/fuzz`` checks every answer it gets against them. A field that depends on the
hub's deployment (an Odoo connected, Redis in use) is ``null`` when it does not apply.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from hub.web.api.response_bodies import Category

# --- devices -----------------------------------------------------------------------


class DeviceUser(TypedDict):
    id: int | None
    name: str
    role: str


class Device(TypedDict):
    """A kitchen device on MQTT (``transport`` absent) or a terminal or display on the
    WebSocket (``transport: "ws"``): API.md's fields first, then each kind's own."""

    id: str
    """The device's name on MQTT; ``user:<id>/<client>`` on the WebSocket."""
    kind: str
    """``printer`` or ``kds`` on MQTT; ``terminal`` or ``display`` on the WebSocket."""
    station: str | None
    online: bool
    last_seen: str | None
    paper: Literal["ok", "low", "out"] | None
    pending_jobs: int | None
    """Jobs last sent to the device and not acknowledged; ``null`` for a WebSocket client."""
    role: NotRequired[Literal["primary", "backup"]]
    cover: NotRequired[Literal["closed", "open"] | None]
    error: NotRequired[str | None]
    firmware: NotRequired[str | None]
    status_at: NotRequired[str | None]
    transport: NotRequired[Literal["ws"]]
    since: NotRequired[str | None]
    user: NotRequired[DeviceUser | None]
    client: NotRequired[str | None]


class DevicePage(TypedDict):
    items: list[Device]
    next: str | None


class RealtimeStats(TypedDict):
    """``GET /api/v1/realtime/stats``: this worker's WebSocket counters."""

    worker: str
    clients: int
    subscriptions: int
    rooms: int
    delivered_to: int
    """The log ``seq`` the fan-out has delivered up to."""
    deliveries: int
    frames_built: int
    writes: int
    rows_read: int
    last_fanout: dict[str, float]
    """Where the time went in the last read that reached a client (µs, and ``events``);
    empty before the first."""
    redis: Literal["ok", "down", "off"]


# --- the kitchen ---------------------------------------------------------------------


class KitchenJob(TypedDict):
    """A ticket the bridge sent (or will send) to a station's device, and its fate."""

    id: int
    job_id: str
    order_id: int
    order_uuid: str
    order_name: str
    order_number: int
    station: str
    kind: Literal["new", "cancel"]
    state: Literal["pending", "sent", "acked", "failed", "void"]
    device: str | None
    backup: bool
    """Sent to the station's backup device, its primary being away."""
    attempts: int
    ack_status: Literal["printed", "shown"] | None
    acked_by: str | None
    last_error: str | None
    next_attempt_at: str | None
    created_at: str
    sent_at: str | None
    acked_at: str | None
    updated_at: str


class KitchenJobPage(TypedDict):
    items: list[KitchenJob]
    next: str | None


class StationList(TypedDict):
    """``GET /api/v1/kitchen/stations``: the stations the catalogue sends lines to."""

    items: list[str]


class StationProduct(TypedDict):
    id: int
    name: str
    station: str
    available: bool
    """``false`` while the kitchen has it 86'd."""


class StationProductList(TypedDict):
    items: list[StationProduct]


# --- sync with head office -----------------------------------------------------------


class SyncItem(TypedDict):
    """One order (``sale``) or refund in the queue to Odoo."""

    id: int
    kind: Literal["sale", "refund"]
    order_id: int
    order_name: str
    uuid: str
    state: Literal["pending", "done", "failed"]
    error: str | None
    """Odoo's message when parked (``failed``)."""
    error_kind: str | None
    attempts: int
    remote_id: int | None
    enqueued_at: str
    updated_at: str


class SyncRemote(TypedDict):
    url: str | None
    version: int | None
    reachable: bool | None


class SyncAgent(TypedDict):
    pid: int | None
    started_at: str | None
    heartbeat_at: str | None


class SyncStatus(TypedDict):
    """``GET /api/v1/sync/status``: the agent's state, the queue, and the parked orders."""

    state: str
    """``starting``, ``running``, ``offline``, ``auth_failed``, ``stopped``; ``idle`` with no
    Odoo configured."""
    pending: int
    failed: int
    last_success_at: str | None
    last_error: str | None
    last_error_at: str | None
    lag_seconds: float
    oldest_pending_age: float | None
    unread_events: int
    last_pull_at: str | None
    remote: SyncRemote
    agent: SyncAgent
    parked: list[SyncItem]
    """The first 100 parked items, oldest first."""


# --- caches and scheduled jobs -------------------------------------------------------


class CacheKindStats(TypedDict):
    hits: int
    misses: int
    errors: int
    evictions: int
    invalidations: int
    hit_rate: float | None
    """``null`` before the first lookup."""


class CacheMemory(TypedDict):
    entries: int
    bytes: int
    max_bytes: int
    versions: int


class CacheStats(TypedDict):
    """``GET /api/v1/cache/stats``: counters per kind (product, barcode, search...)."""

    backend: Literal["redis", "memory"]
    redis: str
    """``ok``, ``down`` or ``off``."""
    kinds: dict[str, CacheKindStats]
    memory: CacheMemory
    redis_connects: int
    redis_purged_keys: int
    warmed_at: str | None


class JobStatus(TypedDict):
    """A periodic job's last run, as every worker recorded it, and what this one knows."""

    name: str
    interval_seconds: float
    owner: str | None
    started_at: str | None
    finished_at: str | None
    outcome: str | None
    """``ok``, ``error``, ``skipped``, ``cancelled``; ``null`` before the first run."""
    duration_ms: float | None
    error: str | None
    note: str | None
    runs: int
    failures: int
    last_success_at: str | None
    next_run_at: str | None
    running: bool
    exclusive: bool
    """Run by one worker of the store at a time."""


class JobList(TypedDict):
    items: list[JobStatus]
    next: None
    """Always ``null``: every job is on the one page."""


# --- the dashboard -------------------------------------------------------------------


class Takings(TypedDict):
    method: str
    amount: str
    count: int


class OpenSession(TypedDict):
    id: int
    terminal: str
    user: str
    opened_at: str
    orders: int


class StationLoad(TypedDict):
    waiting: int
    late: int


class KitchenLoad(TypedDict):
    waiting: int
    late: int
    stations: dict[str, StationLoad]


class AuditEntry(TypedDict):
    at: str
    action: str
    actor: str
    subject: str | None


class Dashboard(TypedDict):
    """``GET /api/v1/dashboard``: today's numbers, since local midnight (``since``, UTC)."""

    since: str
    orders_by_state: dict[str, int]
    takings: list[Takings]
    takings_total: str
    open_sessions: list[OpenSession]
    kitchen: KitchenLoad
    audit: list[AuditEntry]
    """The newest audit events, newest first."""


# --- the catalogue's management and users --------------------------------------------


class CategoryRecord(Category):
    """A category as a manager's write answers it: archived ones too."""

    active: bool


class Tax(TypedDict):
    id: int
    name: str
    amount: str
    """Percent, as a decimal string."""
    price_include: bool
    active: bool
    remote_id: int | None


class TaxList(TypedDict):
    items: list[Tax]
    next: None
    """Always ``null``: every tax is on the one page."""


class Unlocked(TypedDict):
    """``POST /api/v1/users/{login}/unlock``: the login, and the failures forgotten."""

    login: str
    failures_cleared: int
