"""The served OpenAPI document says what the hub really does: a till developer generates a
client from it (issue 13). The schemathesis run of tests/fuzz checks the answers against it;
these check the promises themselves, on a served hub."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any, get_args

import pytest

from hub.orders.machine import STATES
from hub.orders.models import OrderState
from tests.support import local_http
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess

VERBS = {"get", "post", "patch", "put", "delete"}
PUBLIC = {
    ("get", "/health"),
    ("get", "/metrics"),
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/board"),
}


@pytest.fixture(scope="module")
def schema(served_hub_url: str) -> dict[str, Any]:
    answer = local_http.get(f"{served_hub_url}/schema/openapi.json", timeout=5)
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


@pytest.fixture(scope="module")
def served_hub_url(served_hub: HubProcess) -> str:
    return served_hub.url


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (verb, path, op)
        for path, item in schema["paths"].items()
        for verb, op in item.items()
        if verb in VERBS
    ]


def test_every_error_answer_has_the_body_the_hub_serves(schema: dict[str, Any]) -> None:
    """``{error, message, detail}`` (hub.web.api.errors), never Litestar's ``{status_code, detail,
    extra}``; and a request that fails is answered in that shape."""
    body = schema["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"error", "message", "detail"}
    for verb, path, op in operations(schema):
        if path == "/health" or path == "/metrics":
            continue  # /health's 503 is its own body, status "down"; /metrics answers text
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorBody", (verb, path, status)
    assert "status_code" not in str(schema)


def test_each_route_lists_the_statuses_it_can_answer(schema: dict[str, Any]) -> None:
    for verb, path, op in operations(schema):
        statuses = set(op["responses"])
        if (verb, path) not in PUBLIC:
            assert {"401", "403"} <= statuses, (verb, path)
        if "{" in path:
            assert "404" in statuses, (verb, path)
        if "requestBody" in op:
            assert {"413", "422"} <= statuses, (verb, path)
    orders = schema["paths"]["/api/v1/orders"]["post"]["responses"]
    assert {"200", "201", "400", "401", "403", "404", "409", "413", "422", "429"} <= set(orders)
    assert "429" in schema["paths"]["/api/v1/auth/token"]["post"]["responses"]


def test_public_routes_need_no_token_and_the_others_a_bearer_one(
    schema: dict[str, Any], served_hub_url: str
) -> None:
    assert schema["security"] == [{"BearerToken": []}]
    for verb, path, op in operations(schema):
        if (verb, path) in PUBLIC:
            assert op["security"] == [{}], path  # an empty requirement: no authentication
        else:
            assert "security" not in op, path  # the document's: the bearer token
    metrics = schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]
    for path in ("/health", "/metrics", "/api/v1/board"):
        assert local_http.get(f"{served_hub_url}{path}", timeout=5).status_code == 200


def test_request_bodies_refuse_unknown_fields_in_the_schema_too(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in ("CreateOrderBody", "LineBody", "TokenBody", "TransitionBody", "BumpBody"):
        assert components[name]["additionalProperties"] is False, name


def test_the_main_answers_are_typed(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    order = components["Order"]
    assert {"id", "uuid", "state", "lines", "amount_total", "payments", "state_history"} <= set(
        order["required"]
    )
    assert order["properties"]["state"]["enum"] == list(STATES)
    assert get_args(OrderState) == STATES
    paths = schema["paths"]
    assert paths["/api/v1/orders/{order_id}"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"] == {"$ref": "#/components/schemas/Order"}
    token = paths["/api/v1/auth/token"]["post"]["responses"]["200"]["content"]
    assert token["application/json"]["schema"] == {"$ref": "#/components/schemas/Token"}
    for name in ("Product", "ProductPage", "Session", "SessionPage", "OrderPage"):
        assert name in components


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
def test_the_schema_pages_load_everything_from_the_hub(served_hub_url: str, page: str) -> None:
    """A store may have no internet: no CDN, every script and style served by the hub."""
    html = local_http.get(f"{served_hub_url}{page}", timeout=5)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assets = _Assets()
    assets.feed(html.text)
    assert any(url.endswith(".js") for url in assets.urls)
    for url in assets.urls:
        assert url.startswith("/schema/static/"), url
        assert local_http.get(f"{served_hub_url}{url}", timeout=5).status_code == 200, url
    assert not re.search(r"https?://", " ".join(assets.urls))
    licence = local_http.get(f"{served_hub_url}/schema/static/LICENSE", timeout=5)
    assert licence.status_code == 200 and "Apache License" in licence.text


def test_options_and_405_name_every_method_of_the_path(api: Api) -> None:
    """Litestar 2 named only the first handler's methods (litestar#4169), and a 405 none."""
    options = api.http.options("/api/v1/orders/1")
    assert options.status_code == 204
    assert set(options.headers["allow"].split(", ")) == {"GET", "OPTIONS", "PATCH"}
    refused = api.http.request("PUT", "/api/v1/orders/1", headers=api.headers("ana"))
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == {"GET", "OPTIONS", "PATCH"}
    assert refused.json()["error"] == "method_not_allowed"


def test_a_missing_required_parameter_is_a_422_naming_it(api: Api) -> None:
    answer = api.get("/api/v1/kitchen/tickets", as_="kitchen")
    assert answer.status_code == 422
    assert answer.json()["detail"] == {"fields": {"station": "required"}}


NOT_JSON = {("get", "/metrics"): "text/plain"}
"""Success answers that are not JSON, by design: Prometheus's text format."""

FREE_FORM = {
    ("Event", "data"): "each event's own payload (API.md lists them by event)",
    ("Health", "detail"): "each check's facts, which differ by check and by deployment",
    ("Health", "faults"): "hub.faults' sentences with their own facts",
}
"""Fields left as free-form objects on purpose, and why."""


def untyped_parts(
    components: dict[str, Any], node: dict[str, Any], where: str, seen: frozenset[str] = frozenset()
) -> list[str]:
    """Where under ``node`` an object says nothing of its fields (no properties, no typed
    ``additionalProperties``) or a value has no type at all; ``[]`` when all is typed."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:  # a recursive type: walked once
            return []
        return untyped_parts(components, components[name], name, seen | {name})
    found: list[str] = []
    choices = node.get("oneOf", []) + node.get("anyOf", [])
    for choice in choices:
        found += untyped_parts(components, choice, where, seen)
    kinds = node.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds:
        found += untyped_parts(components, node.get("items", {}), f"{where}[]", seen)
    if "object" in kinds or "properties" in node:
        properties = node.get("properties", {})
        values = node.get("additionalProperties")
        typed_values = isinstance(values, dict) and bool(values)
        if not properties and not typed_values:
            found.append(where)
        for field, value in properties.items():
            if (where, field) not in FREE_FORM:
                found += untyped_parts(components, value, f"{where}.{field}", seen)
        if typed_values:
            found += untyped_parts(components, values, f"{where}{{}}", seen)
    if kinds == [None] and not choices and "enum" not in node and "const" not in node:
        found.append(where)  # no type at all: anything goes
    return found


def test_every_success_answer_has_a_typed_body(schema: dict[str, Any]) -> None:
    """A till developer's generated client gets a model for every 2xx answer, not a bare
    dict: each route documents its body, down to the fields of its nested objects."""
    components = schema["components"]["schemas"]
    missing = []
    for verb, path, op in operations(schema):
        for status, answer in op["responses"].items():
            if not status.startswith("2"):
                continue
            content = answer.get("content", {})
            if (verb, path) in NOT_JSON:
                assert list(content) == [NOT_JSON[verb, path]], (verb, path)
                continue
            body = content.get("application/json", {}).get("schema")
            if body is None:
                missing.append(f"{verb} {path} {status}: no JSON body")
                continue
            route = f"{verb} {path} {status}"
            missing += [f"{route}: {part}" for part in untyped_parts(components, body, "body")]
    assert not missing, "\n".join(missing)
    for name, field in FREE_FORM:  # each exception still names a field that exists
        assert field in components[name]["properties"], (name, field)
