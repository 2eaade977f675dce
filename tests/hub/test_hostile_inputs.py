"""Inputs a fuzzer found that reached past the checks: integers past 64 bits, JSON nested past
the decoder's depth. Each is a clear 4xx, logged at most once and never with a traceback."""

from __future__ import annotations

import pytest

from tests.support.api_client import Api
from tests.support.hub_process import HubProcess

HUGE = ("9223372036854775808", "18446744073709551616", "-9223372036854775809", "1" + "0" * 40)
"""Just past SQLite's signed 64 bits, past unsigned 64 bits, below the signed range, absurd."""


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/api/v1/orders/{n}"),
        ("PATCH", "/api/v1/orders/{n}"),
        ("POST", "/api/v1/orders/{n}/validate"),
        ("POST", "/api/v1/orders/{n}/cancel"),
        ("GET", "/api/v1/orders?session_id={n}"),
        ("GET", "/api/v1/products/{n}"),
        ("PATCH", "/api/v1/products/{n}"),
        ("GET", "/api/v1/sessions/{n}"),
        ("POST", "/api/v1/sessions/{n}/close"),
        ("POST", "/api/v1/sync/failed/{n}/retry"),
        ("POST", "/api/v1/kitchen/products/{n}/availability"),
    ],
)
def test_integers_past_64_bits_in_paths_and_queries_are_4xx(
    module_api: Api, method: str, template: str, number: str
) -> None:
    """An id SQLite cannot even bind names no row: 404 or 422, never a 500 with a traceback."""
    bodies = {"PATCH": {"lines": []}, "POST": {"closing_cash": "0"}}
    if template.endswith("/availability"):
        bodies["POST"] = {"available": False}
    r = module_api.http.request(
        method,
        template.format(n=number),
        json=bodies.get(method),
        headers=module_api.headers("admin"),
    )
    assert r.status_code in (404, 422), r.text
    assert r.json()["error"] in ("not_found", "validation_error")


def test_integers_past_64_bits_left_no_traceback(module_api: Api, module_hub: HubProcess) -> None:
    """The log of the hub that answered them holds no OverflowError."""
    r = module_api.get(f"/api/v1/orders/{HUGE[0]}")
    assert r.status_code in (404, 422)
    log = module_hub.log.read_text()
    assert "OverflowError" not in log and "Traceback" not in log


def _nested(depth: int) -> bytes:
    return b'{"login": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/orders", "/api/v1/sessions"])
def test_json_nested_past_the_decoder_is_400_logged_once_without_traceback(
    module_api: Api, module_hub: HubProcess, path: str
) -> None:
    """Anyone may send it (``/auth/token`` takes no token): an answer, one line, no flood."""
    before = module_hub.log.read_text()
    headers = {"content-type": "application/json"}
    if path != "/api/v1/auth/token":
        headers.update(module_api.headers("ana"))
    r = module_api.http.post(path, content=_nested(100_000), headers=headers)
    assert r.status_code == 400, r.text
    assert r.json() == {
        "error": "bad_request",
        "message": "the request body is nested too deeply",
        "detail": {},
    }
    added = module_hub.log.read_text()[len(before) :]
    assert "Traceback" not in added and "RecursionError" not in added
    logged = [line for line in added.splitlines() if "request_nested_too_deep" in line]
    assert len(logged) == 1 and f"path={path}" in logged[0], added


def test_json_nested_within_the_decoder_is_still_a_plain_schema_error(module_api: Api) -> None:
    """Nesting the decoder can read is judged by the schema as usual: 422 naming the field."""
    r = module_api.http.post(
        "/api/v1/auth/token",
        content=_nested(50),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "validation_error"
    assert "login" in r.json()["detail"]["fields"]
