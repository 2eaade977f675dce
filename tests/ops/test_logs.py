"""Logs: JSON lines for the journal, and never a PIN, a token or a card number in them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from websockets.sync.client import connect

from hub.logs import redact
from tests.conftest import demo_database
from tests.support import local_http
from tests.support.hub_process import HubProcess, run_cli

PIN, WRONG_PIN = "73914286", "86429173"
CARD = "4111 1111 1111 1111"  # a test card number: passes the checksum


def test_redact_masks_tokens_pins_and_card_numbers_but_not_ids() -> None:
    """The second line of defence must catch the usual leaks and leave the evidence alone."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzIn0.c2lnbmF0dXJl"
    assert jwt not in redact(f"GET /ws?token={jwt}&room=store")
    assert "s3cret" not in redact("Authorization: Bearer s3cret")
    assert redact('{"login": "ana", "pin": "1234"}') == '{"login": "ana", "pin": "[redacted]"}'
    assert redact(f"reference={CARD} ok").count("1111") == 0
    assert redact("card 4111-1111-1111-1111") == "card [card]"
    kept = "order demo-0001-0002 seq 1234567890123 at 2025-01-01T12:00:00.000Z"
    assert redact(kept) == kept  # no checksum, no masking


def test_a_login_and_a_card_payment_leave_no_secret_in_the_logs(tmp_path: Path) -> None:
    """Debug level, access log on, JSON: the journal still holds no PIN, token or card."""
    db = demo_database(tmp_path / "edgehub.db")
    added = run_cli(db, "user", "add", "zoe", "--role", "cashier", "--pin", PIN)
    assert added.returncode == 0, added.stderr
    hub = HubProcess(db, "--access-log", EDGEHUB_LOG_JSON="true", EDGEHUB_LOG_LEVEL="debug").start()
    http = local_http.client(base_url=hub.url)
    try:
        refused = http.post("/api/v1/auth/token", json={"login": "zoe", "pin": WRONG_PIN})
        assert refused.status_code == 401
        token = http.post("/api/v1/auth/token", json={"login": "zoe", "pin": PIN}).json()[
            "access_token"
        ]
        auth = {"Authorization": f"Bearer {token}"}
        session = http.post("/api/v1/sessions", json={"terminal": "t1"}, headers=auth).json()
        order = http.post(
            "/api/v1/orders",
            json={
                "uuid": "6f1c1d2e-1111-4aaa-8bbb-000000000001",
                "session_id": session["id"],
                "lines": [{"product_id": 1, "qty": "1"}],
            },
            headers=auth,
        ).json()
        assert http.post(f"/api/v1/orders/{order['id']}/validate", headers=auth).status_code == 200
        paid = http.post(
            f"/api/v1/orders/{order['id']}/pay",
            json={"payments": [{"method_id": 2, "amount": "9.50", "reference": CARD}]},
            headers=auth,
        )
        assert paid.status_code == 200, paid.text
        http.get(f"/api/v1/orders?token={token}")  # as a WebSocket URL would carry it
        with connect(f"ws://{hub.url.removeprefix('http://')}/ws?token={token}") as ws:
            ws.send(json.dumps({"type": "ping"}))
            assert json.loads(ws.recv(timeout=5))["type"] == "pong"
        http.post("/api/v1/auth/token", content=b'{"login": "zoe", "pin": "' + PIN.encode())
    finally:
        http.close()
        hub.stop()
    text = hub.log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any("/api/v1/orders/" in line["event"] for line in lines)  # the access log ran
    assert any(line["logger"] == "edgehub.jobs" for line in lines)  # and ours, at debug
    assert any("/ws?token=[redacted]" in line["event"] for line in lines)  # uvicorn's WS line
    for secret in (PIN, WRONG_PIN, token, token.split(".")[2], CARD, CARD.replace(" ", "")):
        assert secret not in text


def _logged(as_json: bool, code: str) -> list[str]:
    """The stderr lines of a fresh process that sets up logging and runs ``code``."""
    script = (
        "import logging\n"
        "from hub.logs import get_logger, setup_logging\n"
        f"setup_logging('info', {as_json})\n"
        "log = get_logger('edgehub.sync')\n" + code
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stderr.splitlines()


EVENT = (
    "log.warning('odoo_failed', state='down', retry_in=2.5, pin='1234', url='/ws?token=abc')\n"
    "try:\n"
    "    1 / 0\n"
    "except ZeroDivisionError:\n"
    "    log.exception('sync_step_failed', step='push')\n"
    "logging.getLogger('uvicorn.error').info('%s accepted', 'ws')\n"
)


def test_an_events_fields_stay_fields_in_json() -> None:
    """The journal can be queried by field (state, retry_in), not by parsing a message;
    a secret field is masked whole, a secret in a text in place."""
    first, failed, foreign = (json.loads(line) for line in _logged(True, EVENT) if line[:1] == "{")
    assert first["event"] == "odoo_failed" and first["level"] == "warning"
    assert first["logger"] == "edgehub.sync"
    assert (first["state"], first["retry_in"]) == ("down", 2.5)
    assert first["pin"] == "[redacted]" and first["url"] == "/ws?token=[redacted]"
    assert failed["step"] == "push" and "ZeroDivisionError" in failed["exc"]
    assert foreign["event"] == "ws accepted" and foreign["logger"] == "uvicorn.error"


def test_console_lines_read_level_logger_event_then_fields() -> None:
    """People read ``WARNING edgehub.sync odoo_failed state=down``; tests and greps rely on it."""
    lines = _logged(False, EVENT)
    assert "WARNING edgehub.sync odoo_failed state=down retry_in=2.5 pin=[redacted]" in lines[0]
    assert lines[0].endswith("url=/ws?token=[redacted]")
    assert "ERROR   edgehub.sync sync_step_failed step=push" in lines[1]
    assert lines[2] == "Traceback (most recent call last):"
    assert lines[-1].endswith("INFO    uvicorn.error ws accepted")
