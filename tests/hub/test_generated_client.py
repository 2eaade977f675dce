"""A till developer's client, generated from the schema the hub serves, takes an order through.

openapi-python-client (a generator from PyPI) writes a typed client from
``/schema/openapi.json``; the test then signs in, opens a session, creates, validates and
pays an order with it, and reads a refusal as the error body. If the schema drifts from
what the hub serves (a field's type, a status, the error body), the client's parsing fails
here.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support import local_http
from tests.support.hub_process import HubProcess

PACKAGE = "edgehub_client"


@pytest.fixture(scope="module")
def client_package(
    served_hub: HubProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ModuleType]]:
    """The generated client's modules, imported from a temporary directory."""
    root = tmp_path_factory.mktemp("client")
    schema = root / "openapi.json"
    schema.write_bytes(local_http.get(f"{served_hub.url}/schema/openapi.json", timeout=5).content)
    generator = Path(sys.executable).with_name("openapi-python-client")
    command = [str(generator), "generate", "--path", str(schema), "--meta", "none"]
    run = subprocess.run(
        [*command, "--output-path", str(root / PACKAGE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(root))
    try:
        names = {
            "client": "client",
            "models": "models",
            "token": "api.auth.api_v1_auth_token_create_token",
            "open_session": "api.sessions.api_v1_sessions_open_session",
            "products": "api.catalogue.api_v1_products_list_products",
            "methods": "api.catalogue.api_v1_payment_methods_list_payment_methods",
            "create_order": "api.orders.api_v1_orders_create_order",
            "fire_event": "api.orders.api_v1_orders_order_id_event_fire_event",
        }
        yield {key: importlib.import_module(f"{PACKAGE}.{name}") for key, name in names.items()}
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_a_generated_client_creates_validates_and_pays_an_order(
    served_hub: HubProcess, client_package: dict[str, ModuleType]
) -> None:
    m: Any = client_package["models"]
    api: dict[str, Any] = client_package
    anonymous = api["client"].Client(base_url=served_hub.url, raise_on_unexpected_status=True)
    token = api["token"].sync(client=anonymous, body=m.TokenBody(login="ana", pin="1234"))
    assert isinstance(token, m.Token) and token.role == m.TokenRole.CASHIER
    till = api["client"].AuthenticatedClient(
        base_url=served_hub.url, token=token.access_token, raise_on_unexpected_status=True
    )

    session = api["open_session"].sync(
        client=till, body=m.OpenSessionBody(terminal=f"gen-{uuid.uuid4().hex[:8]}")
    )
    assert isinstance(session, m.Session) and session.state == m.SessionState.OPEN
    products = api["products"].sync(client=till, limit=5)
    assert isinstance(products, m.ProductPage) and products.items
    cash = next(p for p in api["methods"].sync(client=till).items if p.is_cash)

    order = api["create_order"].sync(
        client=till,
        body=m.CreateOrderBody(
            uuid=str(uuid.uuid4()),
            session_id=session.id,
            lines=[m.LineBody(product_id=products.items[0].id, qty="2")],
        ),
    )
    assert isinstance(order, m.Order) and order.state == m.OrderState.DRAFT
    assert order.lines[0].qty == "2" and order.amount_total != "0.00"

    fire = api["fire_event"].sync
    validated = fire(
        order.id, m.ApiV1OrdersOrderIdEventFireEventEvent.VALIDATE, client=till, body=None
    )
    assert isinstance(validated, m.Order) and validated.state == m.OrderState.VALIDATED
    payment = m.PaymentBody(method_id=cash.id, amount=validated.amount_total)
    paid = fire(
        order.id,
        m.ApiV1OrdersOrderIdEventFireEventEvent.PAY,
        client=till,
        body=m.TransitionBody(payments=[payment]),
    )
    assert isinstance(paid, m.Order) and paid.state == m.OrderState.PAID
    assert paid.amount_paid == validated.amount_total and len(paid.payments) == 1
    assert [h.to for h in paid.state_history] == [
        m.HistoryEntryTo.DRAFT,
        m.HistoryEntryTo.VALIDATED,
        m.HistoryEntryTo.PAID,
    ]

    again = api["fire_event"].sync_detailed(
        order.id,
        m.ApiV1OrdersOrderIdEventFireEventEvent.PAY,
        client=till,
        body=m.TransitionBody(payments=[payment]),
    )
    assert again.status_code == 409
    assert isinstance(again.parsed, m.ErrorBody) and again.parsed.error == "invalid_transition"
