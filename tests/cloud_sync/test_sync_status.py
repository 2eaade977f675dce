"""The sync status on its own: the status API's body and /health's cheaper reading agree."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

from cloud_sync import outbox
from hub import sync_status as status
from hub.db.connection import immediate
from tests.cloud_sync.hub_side import GIFT_CARD, Till, connect
from tests.conftest import demo_database, make_settings

STATUS_BODY = [
    "state",
    "pending",
    "failed",
    "last_success_at",
    "last_error",
    "last_error_at",
    "lag_seconds",
    "oldest_pending_age",
    "unread_events",
    "last_pull_at",
    "remote",
    "agent",
    "parked",
]


def test_health_gives_the_numbers_of_the_status_api_without_its_parked_rows(
    tmp_path: Path,
) -> None:
    """/health runs per request: it must not build the parked list, nor disagree with the API."""
    settings = make_settings(demo_database(tmp_path / "edgehub.db"), odoo_url="http://127.0.0.1:9")
    Till(settings).sell(3, {GIFT_CARD: "1"})
    now = datetime.now(UTC)
    with connect(settings) as db:
        with immediate(db):
            outbox.tail(db)
            db.execute("UPDATE sync_outbox SET state = 'failed', error = 'refused' WHERE id = 1")
        body = status.read(db, settings, now)
        statements: list[str] = []
        db.conn.set_trace_callback(statements.append)
        reading = status.health(db, settings, now)
        db.conn.set_trace_callback(None)
    assert list(body) == STATUS_BODY
    assert [item["id"] for item in body["parked"]] == [1]
    numbers = {f.name for f in fields(status.Health)} - {"status"}
    assert reading.as_dict() == {"status": "lagging"} | {name: body[name] for name in numbers}
    assert (reading.pending, reading.failed) == (2, 1)
    assert statements and not any("JOIN orders" in sql for sql in statements)
