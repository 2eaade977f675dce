"""How long the hub waits, and how often it looks again: one settings group.

These were module constants, so a test could only wait them out. As settings
(``Settings.timing``) a test gives a hub process shorter ones, e.g.
``EDGEHUB_TIMING='{"health_probe_ttl_seconds": 0.2}'`` (JSON, as pydantic-settings
reads a nested model from one variable), or a TOML ``[timing]`` table. An
operator has no reason to change them: every default is today's value.

Intervals that an operator tunes (jobs, sync, kitchen re-sends, WebSocket
polling) stay top-level settings beside their feature.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Timing(BaseModel):
    """Waits and re-check intervals, in seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    health_probe_ttl_seconds: float = Field(default=5.0, gt=0)
    """How long /health reuses a TCP probe of Redis or the broker: a storm of health
    checks must not become a storm of connections."""

    health_probe_timeout_seconds: float = Field(default=0.5, gt=0)
    """How long /health waits for Redis or the broker to accept a connection."""

    redis_ping_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long the redis_probe job waits for a PING before it records Redis down."""

    sync_silent_seconds: float = Field(default=60.0, gt=0)
    """The sync agent writes a heartbeat every 5 s; silent this long, it is reported
    stopped (a fault), whatever its row's state says."""

    restore_wait_seconds: float = Field(default=30.0, gt=0)
    """How long a hub starting during ``edgehub restore`` waits for it to finish."""

    cache_monitor_seconds: float = Field(default=1.0, gt=0)
    """How often the cache checks whether Redis is back (or gone)."""

    catalog_words_seconds: float = Field(default=5.0, gt=0)
    """The fastest the typo-tolerant search reloads its vocabulary after a catalogue
    change: a rebuild is ~0.2 s of Python at 50,000 products, not for every second."""

    kitchen_rescan_seconds: float = Field(default=1.0, gt=0)
    """How often the bridge's re-send loop looks again when nothing woke it and no ticket
    is due sooner: a ticket made due by another connection to the database goes out within
    this, and a ticket the tail sent first is re-sent at the later of its ack timeout and
    the next look."""

    claim_connect_seconds: float = Field(default=3.0, gt=0)
    """How long a starting bridge or printer adapter waits for the broker to answer its
    claim check before it starts unchecked (firmware_bridge.claim)."""
