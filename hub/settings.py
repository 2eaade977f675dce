"""The one typed settings object of every EdgeHub process.

Built once in ``main()`` from ``EDGEHUB_*`` environment variables and an
optional TOML file (``EDGEHUB_CONFIG``), then passed down. Nothing reads the
environment after that, so tests build their own ``Settings(...)`` instead of
patching it. Every default works on one box with nothing else installed.

The code reads the settings by concern (``settings.server.port``,
``settings.sync.batch_size``): one frozen group per concern. Operators keep
the flat names they have always used, ``EDGEHUB_PORT`` or ``port = 8001`` in
the TOML file: each group field's alias is its operator name, and ``NAMES``
maps every operator name to its place. ``Settings(port=8001)`` and
``settings.replace(port=8001)`` take the same names. A group whose fields have
no operator name (a plain model, not a ``Group``) is not read from the
environment and keeps its defaults unless code passes it.

A value a setting cannot take, a TOML file that is missing or not TOML, and a
name that is a near miss of a setting's (``EDGEHUB_PROT``) are start-up errors,
one line each (``hub.settings_problems``): a hub running on a default the
operator meant to change is worse than one that does not start. A name far
from every setting (another program's, or a removed setting) is ignored, and
``main()`` logs the names ``unknown_settings`` finds, so an operator sees what
did nothing.
"""

from __future__ import annotations

import difflib
import json
import os
import secrets
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from hub.timing import Timing

# Where the systemd units keep the store (StateDirectory=edgehub): the default database.
STATE_DIR = Path("/var/lib/edgehub")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
CONFIG_VARIABLE = "EDGEHUB_CONFIG"  # names the TOML file; read before Settings exists
_PREFIX = "EDGEHUB_"


class Group(BaseModel):
    """A concern's settings, each field read from the operator name its alias gives."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True)


def _empty_is_unset(value: Any) -> Any:
    """``EDGEHUB_MQTT_CA_FILE=`` in an env file means unset, not the current directory."""
    return None if value == "" else value


def _comma_list(value: Any) -> Any:
    """``a,b`` in an env file, a list in TOML."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _url(value: str | None, schemes: tuple[str, ...], example: str) -> str | None:
    """``value`` unless it is a URL none of ``schemes`` (or without a host) would reach.

    Refused at start-up, not when the first request reaches the service after "serving".
    """
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ValueError(f"must be a URL like {example} (scheme {' or '.join(schemes)})")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"must name a host, like {example}")
    return value


class Store(Group):
    """Which store this box serves, and its SQLite file."""

    code: str = Field(default="demo", pattern=r"^[A-Za-z0-9_-]{1,32}$", alias="store")
    # Absolute, the state directory the systemd units give every process: a
    # command run from another directory must find the store's database, never
    # start an empty one where it stands. A relative value is made absolute.
    db: Path = Field(default=STATE_DIR / "edgehub.db", alias="db")
    # FULL survives power loss at ~0.2 ms per commit (one fsync); NORMAL only
    # survives a process crash. A till's sale is worth the fsync.
    db_synchronous: str = Field(
        default="FULL", pattern=r"^(FULL|NORMAL|EXTRA)$", alias="db_synchronous"
    )
    db_busy_timeout_ms: int = Field(default=5000, alias="db_busy_timeout_ms")
    db_readers: int = Field(default=2, alias="db_readers")

    @field_validator("db")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value if value.is_absolute() else Path.cwd() / value


class Server(Group):
    """HTTP (edgehub serve): where it listens, what it accepts, who may call it."""

    host: str = Field(default="127.0.0.1", alias="host")
    port: int = Field(default=8000, ge=1, le=65535, alias="port")
    # The address tills and tablets are configured with (http://192.168.1.20:8000):
    # shown by serve and status. Unset: guessed from this PC's interfaces.
    lan_url: str | None = Field(default=None, alias="lan_url")
    # Bodies above this answer 413 before they are parsed.
    max_body_bytes: int = Field(default=256 * 1024, alias="max_body_bytes")
    # Browser origins allowed to call the API (CORS); unset: none.
    cors_origins: Annotated[list[str] | None, NoDecode] = Field(default=None, alias="cors_origins")
    metrics_cache_seconds: float = Field(default=2, ge=0, alias="metrics_cache_seconds")

    _cors_origins = field_validator("cors_origins", mode="before")(_comma_list)


class Logging(Group):
    """How much every process logs, and whether as JSON lines (for journald)."""

    level: str = Field(default="info", alias="log_level")
    as_json: bool = Field(default=False, alias="log_json")

    @field_validator("level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.lower()


class Auth(Group):
    """Tokens, PIN hashing and the credential throttle (logins and approvals)."""

    # Unset: generated once per store and kept beside the database (Settings.with_jwt_secret).
    secret_key: SecretStr | None = Field(default=None, alias="secret_key")
    token_ttl_seconds: int = Field(default=12 * 3600, alias="token_ttl_seconds")
    device_token_ttl_seconds: int = Field(
        default=30 * 86400, gt=0, alias="device_token_ttl_seconds"
    )
    pin_hash_iterations: int = Field(default=120_000, alias="pin_hash_iterations")
    # Failures allowed per window for one login, and for one address. The address
    # limit is far above what a store's tills produce together: behind NAT every
    # till has the same address.
    login_max_failures: int = Field(default=5, ge=1, alias="login_max_failures")
    login_window_seconds: int = Field(default=300, ge=1, alias="login_window_seconds")
    login_address_max_failures: int = Field(default=100, ge=1, alias="login_address_max_failures")


class Rules(Group):
    """Business rules the order machine checks."""

    max_discount_pct: Decimal = Field(default=Decimal("30"), alias="max_discount_pct")
    currency_digits: int = Field(default=2, alias="currency_digits")


class Redis(Group):
    """The Redis the cache and the WebSocket wake-ups use; unset: in-process only."""

    url: str | None = Field(default=None, alias="redis_url")
    pool_size: int = Field(default=16, ge=1, le=512, alias="redis_pool_size")
    timeout: float = Field(default=0.25, gt=0, le=10, alias="redis_timeout")

    _empty = field_validator("url", mode="before")(_empty_is_unset)

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        return _url(value, ("redis", "rediss", "unix"), "redis://127.0.0.1:6379/0")


class Cache(Group):
    """The cache (hub.cache): the in-process fallback's size, the hot set re-warmed,
    and how often the event log is tailed for invalidations."""

    max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024, alias="cache_max_bytes")
    warm_products: int = Field(default=50_000, ge=0, alias="cache_warm_products")
    tail_interval_seconds: float = Field(default=0.25, gt=0, alias="cache_tail_interval_seconds")


class Mqtt(Group):
    """The broker of the kitchen bridge and the printer adapters."""

    # mqtt:// or mqtts:// (TLS, port 8883 by default). An mqtts broker's
    # certificate must chain to ca_file (unset: the system's trust store).
    url: str = Field(default="mqtt://127.0.0.1:1883", alias="mqtt_url")
    ca_file: Path | None = Field(default=None, alias="mqtt_ca_file")
    # The broker declares a silent client gone (and publishes its last will)
    # after 1.5 times this.
    keepalive_seconds: int = Field(default=15, ge=2, le=600, alias="mqtt_keepalive_seconds")

    _empty = field_validator("ca_file", mode="before")(_empty_is_unset)

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        return _url(value, ("mqtt", "mqtts"), "mqtt://127.0.0.1:1883") or ""


class Kitchen(Group):
    """edgehub bridge and edgehub printer.

    A job no device has acknowledged is sent again after the ack timeout, then
    after twice that, and so on up to the maximum: a device that is merely slow
    is not flooded, one that lost a ticket gets it again within seconds.
    """

    ack_timeout_seconds: float = Field(default=5.0, gt=0, alias="kitchen_ack_timeout_seconds")
    retry_max_seconds: float = Field(default=60.0, gt=0, alias="kitchen_retry_max_seconds")
    presence_grace_seconds: float | None = Field(
        default=None, gt=0, alias="kitchen_presence_grace_seconds"
    )
    # A starting bridge (or adapter) reads the retained claim of a running one
    # (firmware_bridge.claim): this long after its SUBACK, no claim means none.
    claim_wait_seconds: float = Field(default=0.3, gt=0, le=10, alias="kitchen_claim_wait_seconds")

    _empty = field_validator("presence_grace_seconds", mode="before")(_empty_is_unset)

    def presence_grace(self, keepalive_seconds: float) -> float:
        """How long after connecting the bridge waits to hear from a device it believes online.

        Live devices repeat their status on reconnecting: three keepalives unless set.
        """
        if self.presence_grace_seconds is not None:
            return self.presence_grace_seconds
        return 3.0 * keepalive_seconds


class Screens(Group):
    """The screens (hub.web.screens, docs/screens.md).

    A kitchen ticket turns amber after kds_warn_seconds and red after
    kds_late_seconds (the dashboard counts it late from then); kds_station_ages
    overrides both per station, as "grill=240:480,bar=120:300". A ready number
    leaves the customer board after board_ready_seconds even if nobody marks it
    collected.
    """

    kds_warn_seconds: float = Field(default=300, gt=0, alias="kds_warn_seconds")
    kds_late_seconds: float = Field(default=600, gt=0, alias="kds_late_seconds")
    kds_station_ages: Annotated[dict[str, tuple[float, float]] | None, NoDecode] = Field(
        default=None, alias="kds_station_ages"
    )
    board_ready_seconds: float = Field(default=600, gt=0, alias="board_ready_seconds")

    @field_validator("kds_station_ages", mode="before")
    @classmethod
    def _station_ages(cls, value: Any) -> Any:
        """``grill=240:480,bar=120:300`` in an env file, a table of pairs in TOML."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        ages: dict[str, tuple[str, str]] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            station, _, pair = part.partition("=")
            warn, _, late = pair.partition(":")
            if not station.strip() or not warn or not late:
                raise ValueError(f"{part!r} is not station=warn_seconds:late_seconds")
            ages[station.strip()] = (warn.strip(), late.strip())
        return ages

    def kds_ages(self, station: str) -> tuple[float, float]:
        """(warn, late) seconds for a ticket of ``station``."""
        default = (self.kds_warn_seconds, self.kds_late_seconds)
        return (self.kds_station_ages or {}).get(station, default)


class Realtime(Group):
    """WebSocket /ws (hub.web.realtime)."""

    # The event log is polled this often for events written by other processes;
    # a local write, or a Redis wake-up, skips the wait.
    poll_interval: float = Field(default=0.1, gt=0, le=5, alias="ws_poll_interval")
    # Frames a client may fall behind by before it is closed with 4408.
    queue_frames: int = Field(default=1000, ge=8, alias="ws_queue_frames")
    # Protocol pings: a client silent for interval + timeout is dropped.
    ping_interval: float = Field(default=20.0, gt=0, alias="ws_ping_interval")
    ping_timeout: float = Field(default=20.0, gt=0, alias="ws_ping_timeout")
    # A client without ?token= must send its auth message within this, or is closed 4401.
    auth_timeout: float = Field(default=5.0, gt=0, le=60, alias="ws_auth_timeout")


class Odoo(Group):
    """Head office's Odoo, as the sync agent reaches it; unset url: no sync."""

    url: str | None = Field(default=None, alias="odoo_url")
    db: str | None = Field(default=None, alias="odoo_db")
    login: str | None = Field(default=None, alias="odoo_login")
    api_key: SecretStr | None = Field(default=None, alias="odoo_api_key")
    pos_config_id: int | None = Field(default=None, alias="odoo_pos_config_id")

    _empty = field_validator("url", mode="before")(_empty_is_unset)

    @field_validator("url")
    @classmethod
    def _odoo_url(cls, value: str | None) -> str | None:
        return _url(value, ("http", "https"), "https://odoo.example.com")


class Sync(Group):
    """The sync agent (edgehub sync).

    The most orders per push, how long one call may take, the longest wait
    between retries while Odoo is down (or refuses the key), how often the
    catalogue is pulled, how soon an idle agent looks for new orders, how long
    it pauses before trying a failed call again, and when sync is lagging (the
    one threshold of /health, the sync watch, /metrics and `edgehub status`).
    """

    batch_size: int = Field(default=200, ge=1, le=1000, alias="sync_batch_size")
    timeout_seconds: float = Field(default=30.0, gt=0, alias="sync_timeout_seconds")
    backoff_max_seconds: float = Field(default=300.0, gt=0, alias="sync_backoff_max_seconds")
    pull_interval_seconds: float = Field(default=300.0, gt=0, alias="sync_pull_interval_seconds")
    poll_seconds: float = Field(default=0.25, gt=0, le=60, alias="sync_poll_seconds")
    retry_pause_seconds: float = Field(default=0.05, gt=0, le=10, alias="sync_retry_pause_seconds")
    lag_warn_seconds: float = Field(default=600.0, gt=0, alias="sync_lag_warn_seconds")


class Jobs(Group):
    """How often each periodic job runs (hub.periodic), in seconds."""

    cache_warm_seconds: float = Field(default=600, gt=0, alias="job_cache_warm_seconds")
    redis_probe_seconds: float = Field(default=30, gt=0, alias="job_redis_probe_seconds")
    db_optimize_seconds: float = Field(default=6 * 3600, gt=0, alias="job_db_optimize_seconds")
    event_prune_seconds: float = Field(default=3600, gt=0, alias="job_event_prune_seconds")
    sync_watch_seconds: float = Field(default=30, gt=0, alias="job_sync_watch_seconds")
    fault_watch_seconds: float = Field(default=10, gt=0, alias="job_fault_watch_seconds")
    backup_seconds: float = Field(default=24 * 3600, gt=0, alias="job_backup_seconds")
    # PRAGMA quick_check reads every page: about a second per few hundred MB.
    db_check_seconds: float = Field(default=3600, gt=0, alias="job_db_check_seconds")


class Backup(Group):
    """Where backups go (hub.backup) and how many are kept."""

    # Unset: a "backups" directory beside the database (Settings.backup_path).
    dir: Path | None = Field(default=None, alias="backup_dir")
    keep: int = Field(default=7, ge=1, alias="backup_keep")


class Retention(Group):
    """How long the event log and finished kitchen jobs are kept."""

    # The event log keeps at least this much for WebSocket resume, and never
    # drops an event a consumer named here (or any cursor present) has not read.
    events_keep_hours: float = Field(default=72, ge=0, alias="events_keep_hours")
    events_keep_count: int = Field(default=100_000, ge=0, alias="events_keep_count")
    events_consumers: Annotated[list[str], NoDecode] = Field(
        default=["kitchen", "sync"], alias="events_consumers"
    )
    # Finished kitchen jobs (acked or void) of finished orders stay this long, so
    # support can still read yesterday's tickets in /api/v1/kitchen/jobs.
    kitchen_jobs_keep_hours: float = Field(default=72, ge=0, alias="kitchen_jobs_keep_hours")

    _consumers = field_validator("events_consumers", mode="before")(_comma_list)


class Settings(BaseSettings):
    """Everything a hub process may be told, one group per concern; frozen once built."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    store: Store = Store()
    server: Server = Server()
    logging: Logging = Logging()
    auth: Auth = Auth()
    rules: Rules = Rules()
    redis: Redis = Redis()
    cache: Cache = Cache()
    mqtt: Mqtt = Mqtt()
    kitchen: Kitchen = Kitchen()
    screens: Screens = Screens()
    realtime: Realtime = Realtime()
    odoo: Odoo = Odoo()
    sync: Sync = Sync()
    jobs: Jobs = Jobs()
    backup: Backup = Backup()
    retention: Retention = Retention()
    # Waits that were module constants (hub.timing), set whole as JSON (EDGEHUB_TIMING):
    # tests shorten them; an operator has no reason to.
    timing: Timing = Timing()

    def __init__(self, **values: Any) -> None:
        """``Settings(db=path, port=8001)``: the operator names, as in the environment,
        or whole groups (``server=Server(...)``); the rest from the environment."""
        super().__init__(**values)

    @field_validator("timing", mode="before")
    @classmethod
    def _timing_json(cls, value: Any) -> Any:
        """``EDGEHUB_TIMING``: one JSON object; bad JSON is that setting's error."""
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @model_validator(mode="before")
    @classmethod
    def _operator_names(cls, data: Any) -> Any:
        """Move values given by operator name (``port=8001``) into their group."""
        return _nest(data) if isinstance(data, Mapping) else data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then ``EDGEHUB_*`` variables, then the TOML file."""
        sources: list[PydanticBaseSettingsSource] = [
            _Nested(init_settings),
            _OperatorNames(settings_cls, environ_names(os.environ)),
        ]
        config_file = os.environ.get(CONFIG_VARIABLE)
        if config_file:
            table = _READ_CONFIG.get()
            if table is None:
                table = _toml_table(Path(config_file))
            sources.append(_OperatorNames(settings_cls, _lower_keys(table)))
        return tuple(sources)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (operator names or whole groups), validated again;
        the environment and the TOML file are not read again."""
        data: dict[str, Any] = {name: getattr(self, name) for name in type(self).model_fields}
        for name, value in _nest(changes).items():
            current = data.get(name)
            if isinstance(value, dict) and isinstance(current, BaseModel):
                value = {**current.model_dump(), **value}
            data[name] = value
        return type(self).model_validate(data)

    @property
    def backup_path(self) -> Path:
        """Where backups go: ``backup.dir``, else ``backups/`` beside the database."""
        return self.backup.dir if self.backup.dir is not None else self.store.db.parent / "backups"

    @property
    def secret_path(self) -> Path:
        """Where the generated JWT key lives: beside the database, mode 0600."""
        return self.store.db.with_name(self.store.db.name + ".secret")

    def with_jwt_secret(self) -> Settings:
        """These settings with ``auth.secret_key`` set: the operator's, else the key
        generated once per store and kept beside the DB. The one file I/O of the key,
        done where a process starts (``create_app``, ``edgehub token``)."""
        if self.auth.secret_key is not None:
            return self
        path = self.secret_path
        if path.exists():
            key = path.read_text().strip()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            # O_EXCL: when two processes start together, one creates and both read it.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                key = path.read_text().strip()
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(key)
        return self.replace(secret_key=key)

    def jwt_secret(self) -> str:
        """The signing key, once ``with_jwt_secret`` has loaded it (no I/O here)."""
        if self.auth.secret_key is None:
            raise RuntimeError("no JWT key loaded: build the app from settings.with_jwt_secret()")
        return self.auth.secret_key.get_secret_value()


def _operator_names() -> dict[str, tuple[str, str]]:
    """Operator name (``sync_batch_size``) → (group, field) (``sync``, ``batch_size``)."""
    names: dict[str, tuple[str, str]] = {}
    for group, info in Settings.model_fields.items():
        model = info.annotation
        if not (isinstance(model, type) and issubclass(model, Group)):
            continue  # a group code sets (timing constants): no operator names
        for field, group_info in model.model_fields.items():
            names[group_info.alias or field] = (group, field)
    return names


NAMES = _operator_names()
# Groups set whole, as one JSON object under the group's name (EDGEHUB_TIMING).
WHOLE_GROUPS = frozenset({"timing"})


def _nest(data: Mapping[str, Any]) -> dict[str, Any]:
    """``{"port": 8001, "sync": {...}}`` → ``{"server": {"port": 8001}, "sync": {...}}``.

    ``store`` is both an operator name (the store code) and a group: a mapping
    or a model is the group, anything else the code.
    """
    nested: dict[str, Any] = {}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        is_group = key in Settings.model_fields and isinstance(value, Mapping | BaseModel)
        if key in NAMES and not is_group:
            flat[key] = value
        else:
            nested[key] = value
    for key, value in flat.items():
        group, field = NAMES[key]
        current = nested.get(group)
        if isinstance(current, BaseModel):
            current = {name: getattr(current, name) for name in type(current).model_fields}
        nested[group] = {**(current or {}), field: value}
    return nested


class _Nested(PydanticBaseSettingsSource):
    """Another source's values with operator names put in their groups, so that
    sources merge group by group (``Settings(store="s1")`` keeps ``EDGEHUB_DB``)."""

    def __init__(self, source: PydanticBaseSettingsSource) -> None:
        super().__init__(source.settings_cls)
        self.source = source

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ answers for every field

    def __call__(self) -> dict[str, Any]:
        return _nest(self.source())


class _OperatorNames(PydanticBaseSettingsSource):
    """Values named as operators name them, put in their groups."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self.values = {
            name: value for name, value in values.items() if name in NAMES or name in WHOLE_GROUPS
        }

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ answers for every field

    def __call__(self) -> dict[str, Any]:
        return _nest(self.values)


def environ_names(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``EDGEHUB_*`` variables by lower-case name without the prefix (Settings'
    names are case-insensitive)."""
    return {
        name[len(_PREFIX) :].lower(): value
        for name, value in environ.items()
        if name.upper().startswith(_PREFIX) and name.upper() != CONFIG_VARIABLE
    }


def _toml_table(path: Path) -> dict[str, Any]:
    """The TOML file's table; a missing file is settings_problems' to report."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}


def _lower_keys(table: Mapping[str, Any]) -> dict[str, Any]:
    """The TOML file's keys, lower case (Settings' names are case-insensitive)."""
    return {key.lower(): value for key, value in table.items()}


_READ_CONFIG: ContextVar[Mapping[str, Any] | None] = ContextVar("edgehub_config", default=None)
"""The TOML file's table as ``load_settings``' caller read it, for the Settings' source."""


def field_of(name: str) -> FieldInfo:
    """The field of the setting operators call ``name``: its type and default."""
    group, field = NAMES[name]
    model = Settings.model_fields[group].annotation
    assert isinstance(model, type) and issubclass(model, Group)
    return model.model_fields[field]


def value_of(settings: Settings, name: str) -> Any:
    """The value of the setting operators call ``name``."""
    group, field = NAMES[name]
    return getattr(getattr(settings, group), field)


# Settings that were removed, and what an operator who still sets one should know.
REMOVED = {
    "sync_lag_alert_seconds": "removed; the one sync threshold is "
    "EDGEHUB_SYNC_LAG_WARN_SECONDS, default 600 s",
    "sync_consumer": "removed; the sync agent's cursor is always named sync",
    "job_stale_cleanup_seconds": "removed with its job, which swept nothing: a WebSocket "
    "closes itself on token expiry and missed pings",
}


def nearest_setting(name: str) -> str | None:
    """The setting a name not among them most likely meant (``prot``: ``port``), if any.

    Removed settings have their own note (``REMOVED``) and are never a typo.
    """
    field = name.lower()
    if field in NAMES or field in REMOVED or field in WHOLE_GROUPS:
        return None
    close = difflib.get_close_matches(field, list(NAMES), n=1, cutoff=0.75)
    return close[0] if close else None


def unknown_settings(
    environ: Mapping[str, str], config: Mapping[str, Any] | None = None
) -> list[str]:
    """The ``EDGEHUB_*`` variables of ``environ``, then the keys of its TOML file,
    that Settings ignores, each with a note when it is a removed setting.

    A name close to a setting's is left out: it is a typo, and a typo is an
    error (``hub.settings_problems``), not a warning.

    Matched as Settings matches them: names case-insensitively, TOML keys
    without the prefix. A TOML file that is missing yields nothing here, as
    it does for Settings. ``config``: the file's table, when the caller has read it.
    """

    def entry(name: str, field: str) -> str:
        return f"{name} ({REMOVED[field]})" if field in REMOVED else name

    found = [
        entry(name, name[len(_PREFIX) :].lower())
        for name in sorted(environ)
        if name.upper().startswith(_PREFIX)
        and name != CONFIG_VARIABLE
        and name[len(_PREFIX) :].lower() not in NAMES.keys() | WHOLE_GROUPS
        and nearest_setting(name[len(_PREFIX) :]) is None
    ]
    config_file = environ.get(CONFIG_VARIABLE)
    if config_file:
        found += [
            entry(f"{key} in {CONFIG_VARIABLE}", key.lower())
            for key in sorted(config if config is not None else _toml_table(Path(config_file)))
            if key.lower() not in NAMES.keys() | WHOLE_GROUPS and nearest_setting(key) is None
        ]
    return found


def load_settings(config: Mapping[str, Any] | None = None, **overrides: Any) -> Settings:
    """Read the environment (and the TOML file, unless ``config`` is its table already).

    ``main()`` reads the file once and passes the table here and to
    ``unknown_settings``: the problems it reports, the Settings and the ignored
    names all come from one reading, even if the file changes meanwhile.
    """
    token = _READ_CONFIG.set(config)
    try:
        return Settings(**overrides)
    finally:
        _READ_CONFIG.reset(token)
