"""The one typed settings object of every EdgeHub process.

Built once in ``main()`` from ``EDGEHUB_*`` environment variables and an
optional TOML file (``EDGEHUB_CONFIG``), then passed down. Nothing reads the
environment after that, so tests build their own ``Settings(...)`` instead of
patching it. Every default works on one box with nothing else installed.

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
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hub.timing import Timing

# Where the systemd units keep the store (StateDirectory=edgehub): the default database.
STATE_DIR = Path("/var/lib/edgehub")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class Settings(BaseSettings):
    """Everything a hub process may be told; frozen once built."""

    model_config = SettingsConfigDict(env_prefix="EDGEHUB_", frozen=True, extra="ignore")

    # Absolute, the state directory the systemd units give every process: a
    # command run from another directory must find the store's database, never
    # start an empty one where it stands. A relative value is made absolute.
    db: Path = STATE_DIR / "edgehub.db"
    store: str = Field(default="demo", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The address tills and tablets are configured with (http://192.168.1.20:8000):
    # shown by serve and status. Unset: guessed from this PC's interfaces.
    lan_url: str | None = None
    log_level: str = "info"
    log_json: bool = False

    # SQLite: FULL survives power loss at ~0.2 ms per commit (one fsync);
    # NORMAL only survives a process crash. A till's sale is worth the fsync.
    db_synchronous: str = Field(default="FULL", pattern=r"^(FULL|NORMAL|EXTRA)$")
    db_busy_timeout_ms: int = 5000
    db_readers: int = 2

    redis_url: str | None = None
    # mqtt:// or mqtts:// (TLS, port 8883 by default). An mqtts broker's
    # certificate must chain to mqtt_ca_file (unset: the system's trust store).
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_ca_file: Path | None = None

    odoo_url: str | None = None
    odoo_db: str | None = None
    odoo_login: str | None = None
    odoo_api_key: SecretStr | None = None
    odoo_pos_config_id: int | None = None
    # The sync agent (edgehub sync): the most orders per push, how long one call may
    # take, the longest wait between retries while Odoo is down (or refuses
    # the key), how often the catalogue is pulled, and when sync is lagging (the
    # one threshold of /health, the sync watch, /metrics and `edgehub status`).
    sync_batch_size: int = Field(default=200, ge=1, le=1000)
    sync_timeout_seconds: float = Field(default=30.0, gt=0)
    sync_backoff_max_seconds: float = Field(default=300.0, gt=0)
    sync_pull_interval_seconds: float = Field(default=300.0, gt=0)
    sync_lag_warn_seconds: float = Field(default=600.0, gt=0)

    secret_key: SecretStr | None = None
    token_ttl_seconds: int = 12 * 3600
    pin_hash_iterations: int = 120_000

    # Business rules.
    max_discount_pct: Decimal = Decimal("30")
    currency_digits: int = 2

    # Request hygiene: bodies above this answer 413 before they are parsed.
    max_body_bytes: int = 256 * 1024

    # Credential throttle (logins and approvals): failures allowed per window for one
    # login, and for one address. The address limit is far above what a store's
    # tills produce together: behind NAT every till has the same address.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    login_address_max_failures: int = Field(default=100, ge=1)

    # --- Operations: periodic jobs, backups, log retention, HTTP hygiene -------------
    # (hub.jobs, hub.backup, hub.operations). Every interval is in seconds.
    job_cache_warm_seconds: float = Field(default=600, gt=0)
    job_redis_probe_seconds: float = Field(default=30, gt=0)
    job_db_optimize_seconds: float = Field(default=6 * 3600, gt=0)
    job_event_prune_seconds: float = Field(default=3600, gt=0)
    job_sync_watch_seconds: float = Field(default=30, gt=0)
    job_fault_watch_seconds: float = Field(default=10, gt=0)
    job_backup_seconds: float = Field(default=24 * 3600, gt=0)
    # PRAGMA quick_check reads every page: about a second per few hundred MB.
    job_db_check_seconds: float = Field(default=3600, gt=0)
    # Unset: a "backups" directory beside the database.
    backup_dir: Path | None = None
    backup_keep: int = Field(default=7, ge=1)
    # The event log keeps at least this much for WebSocket resume, and never
    # drops an event a consumer named here (or any cursor present) has not read.
    events_keep_hours: float = Field(default=72, ge=0)
    events_keep_count: int = Field(default=100_000, ge=0)
    events_consumers: Annotated[list[str], NoDecode] = ["kitchen", "sync"]
    # Finished kitchen jobs (acked or void) of finished orders stay this long, so
    # support can still read yesterday's tickets in /api/v1/kitchen/jobs.
    kitchen_jobs_keep_hours: float = Field(default=72, ge=0)
    metrics_cache_seconds: float = Field(default=2, ge=0)
    # Browser origins allowed to call the API (CORS); unset: none.
    cors_origins: Annotated[list[str] | None, NoDecode] = None
    device_token_ttl_seconds: int = Field(default=30 * 86400, gt=0)

    @field_validator("mqtt_ca_file", "redis_url", "odoo_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """``EDGEHUB_MQTT_CA_FILE=`` in an env file means unset, not the current directory."""
        return None if value == "" else value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.lower()

    @field_validator("db")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value if value.is_absolute() else Path.cwd() / value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        """Refused here, not when the first request reaches the cache after "serving"."""
        return _url(value, ("redis", "rediss", "unix"), "redis://127.0.0.1:6379/0")

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        return _url(value, ("mqtt", "mqtts"), "mqtt://127.0.0.1:1883") or ""

    @field_validator("odoo_url")
    @classmethod
    def _odoo_url(cls, value: str | None) -> str | None:
        return _url(value, ("http", "https"), "https://odoo.example.com")

    @field_validator("events_consumers", "cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """``a,b`` in an env file, a list in TOML."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("timing", mode="before")
    @classmethod
    def _timing_json(cls, value: Any) -> Any:
        """One JSON object (NoDecode: bad JSON is a setting's error here, not a traceback)."""
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

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

    @property
    def backup_path(self) -> Path:
        """Where backups go: ``backup_dir``, else ``backups/`` beside the database."""
        return self.backup_dir if self.backup_dir is not None else self.db.parent / "backups"

    # --- end of operations settings ------------------------------------------------
    # Cache (hub.cache): Redis pool and timeouts, the in-process fallback's size,
    # how often the hot set is re-warmed and the event log tailed for invalidations.
    redis_pool_size: int = Field(default=16, ge=1, le=512)
    redis_timeout: float = Field(default=0.25, gt=0, le=10)
    cache_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    cache_warm_products: int = Field(default=50_000, ge=0)
    cache_tail_interval_seconds: float = Field(default=0.25, gt=0)
    # --- Kitchen: edgehub bridge and edgehub printer -------------------------------
    # A job no device has acknowledged is sent again after the ack timeout, then
    # after twice that, and so on up to the maximum: a device that is merely slow
    # is not flooded, one that lost a ticket gets it again within seconds.
    kitchen_ack_timeout_seconds: float = Field(default=5.0, gt=0)
    kitchen_retry_max_seconds: float = Field(default=60.0, gt=0)
    # MQTT keepalive of the bridge and the printer adapters. The broker declares a
    # silent client gone (and publishes its last will) after 1.5 times this.
    mqtt_keepalive_seconds: int = Field(default=15, ge=2, le=600)
    # The screens (hub.screens, docs/screens.md). A kitchen ticket turns amber
    # after kds_warn_seconds and red after kds_late_seconds (the dashboard counts
    # it late from then); kds_station_ages overrides both per station, as
    # "grill=240:480,bar=120:300". A ready number leaves the customer board
    # after board_ready_seconds even if nobody marks it collected.
    kds_warn_seconds: float = Field(default=300, gt=0)
    kds_late_seconds: float = Field(default=600, gt=0)
    kds_station_ages: Annotated[dict[str, tuple[float, float]] | None, NoDecode] = None
    board_ready_seconds: float = Field(default=600, gt=0)
    # --- end of the kitchen block ---------------------------------------------------
    # WebSocket /ws (hub.realtime). The event log is polled this often for events
    # written by other processes; a local write, or a Redis wake-up, skips the wait.
    ws_poll_interval: float = Field(default=0.1, gt=0, le=5)
    # Frames a client may fall behind by before it is closed with 4408.
    ws_queue_frames: int = Field(default=1000, ge=8)
    # Protocol pings: a client silent for interval + timeout is dropped.
    ws_ping_interval: float = Field(default=20.0, gt=0)
    ws_ping_timeout: float = Field(default=20.0, gt=0)
    # Waits and re-check intervals that were module constants (hub.timing): tests shorten them.
    timing: Annotated[Timing, NoDecode] = Timing()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_VARIABLE)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @property
    def secret_path(self) -> Path:
        """Where the generated JWT key lives: beside the database, mode 0600."""
        return self.db.with_name(self.db.name + ".secret")

    def jwt_secret(self) -> str:
        """The signing key: from settings, else generated once and kept beside the DB."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.secret_path
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL: when two processes start together, one creates and both read it.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


def _url(value: str | None, schemes: tuple[str, ...], example: str) -> str | None:
    """``value`` unless it is a URL none of ``schemes`` (or without a host) would reach."""
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ValueError(f"must be a URL like {example} (scheme {' or '.join(schemes)})")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"must name a host, like {example}")
    return value


# Settings that were removed, and what an operator who still sets one should know.
REMOVED = {
    "sync_lag_alert_seconds": "removed; the one sync threshold is "
    "EDGEHUB_SYNC_LAG_WARN_SECONDS, default 600 s",
    "sync_consumer": "removed; the sync agent's cursor is always named sync",
    "job_stale_cleanup_seconds": "removed with its job, which swept nothing: a WebSocket "
    "closes itself on token expiry and missed pings",
}
CONFIG_VARIABLE = "EDGEHUB_CONFIG"  # names the TOML file; read before Settings exists
_PREFIX = "EDGEHUB_"


def nearest_setting(name: str) -> str | None:
    """The setting a name not among them most likely meant (``prot``: ``port``), if any.

    Removed settings have their own note (``REMOVED``) and are never a typo.
    """
    field = name.lower()
    if field in Settings.model_fields or field in REMOVED:
        return None
    close = difflib.get_close_matches(field, list(Settings.model_fields), n=1, cutoff=0.75)
    return close[0] if close else None


def unknown_settings(environ: Mapping[str, str]) -> list[str]:
    """The ``EDGEHUB_*`` variables of ``environ``, then the keys of its TOML file,
    that Settings ignores, each with a note when it is a removed setting.

    A name close to a setting's is left out: it is a typo, and a typo is an
    error (``hub.settings_problems``), not a warning.

    Matched as Settings matches them: names case-insensitively, TOML keys
    without the prefix. A TOML file that is missing yields nothing here, as
    it does for Settings.
    """
    fields = set(Settings.model_fields)

    def entry(name: str, field: str) -> str:
        return f"{name} ({REMOVED[field]})" if field in REMOVED else name

    found = [
        entry(name, name[len(_PREFIX) :].lower())
        for name in sorted(environ)
        if name.upper().startswith(_PREFIX)
        and name != CONFIG_VARIABLE
        and name[len(_PREFIX) :].lower() not in fields
        and nearest_setting(name[len(_PREFIX) :]) is None
    ]
    config_file = environ.get(CONFIG_VARIABLE)
    if config_file:
        try:
            with Path(config_file).open("rb") as fh:
                table = tomllib.load(fh)
        except FileNotFoundError:
            table = {}
        found += [
            entry(f"{key} in {CONFIG_VARIABLE}", key.lower())
            for key in sorted(table)
            if key.lower() not in fields and nearest_setting(key) is None
        ]
    return found


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and TOML file) once; called by ``main()`` only."""
    return Settings(**overrides)
