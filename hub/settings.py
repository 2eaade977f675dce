"""The one typed settings object of every EdgeHub process.

Built once in ``main()`` from ``EDGEHUB_*`` environment variables and an
optional TOML file (``EDGEHUB_CONFIG``), then passed down. Nothing reads the
environment after that, so tests build their own ``Settings(...)`` instead of
patching it. Every default works on one box with nothing else installed.
"""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Everything a hub process may be told; frozen once built."""

    model_config = SettingsConfigDict(env_prefix="EDGEHUB_", frozen=True, extra="ignore")

    db: Path = Path("./edgehub.db")
    store: str = Field(default="demo", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    log_json: bool = False

    # SQLite: FULL survives power loss at ~0.2 ms per commit (one fsync);
    # NORMAL only survives a process crash. A till's sale is worth the fsync.
    db_synchronous: str = Field(default="FULL", pattern=r"^(FULL|NORMAL|EXTRA)$")
    db_busy_timeout_ms: int = 5000
    db_readers: int = 2

    redis_url: str | None = None
    mqtt_url: str = "mqtt://127.0.0.1:1883"

    odoo_url: str | None = None
    odoo_db: str | None = None
    odoo_login: str | None = None
    odoo_api_key: SecretStr | None = None
    odoo_pos_config_id: int | None = None
    # The sync agent (edgehub sync): orders per push, how long one call may
    # take, the longest wait between retries while Odoo is down (or refuses
    # the key), how often the catalogue is pulled, and when /health says lagging.
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

    # Login throttle: failures allowed per window, per login and per address.
    login_max_failures: int = 5
    login_window_seconds: int = 300

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
        config_file = os.environ.get("EDGEHUB_CONFIG")
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


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and TOML file) once; called by ``main()`` only."""
    return Settings(**overrides)
