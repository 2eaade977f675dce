"""Every (state, event) pair over HTTP: legal ones move the order, illegal ones answer 409."""

from __future__ import annotations

import itertools

import pytest

from hub.orders.machine import EVENTS, STATES
from tests.support.api_client import Api

# Legal moves of an order that has kitchen items, and where each one leads.
LEGAL: dict[str, dict[str, str]] = {
    "draft": {"validate": "validated", "cancel": "cancelled"},
    "validated": {"pay": "paid", "cancel": "cancelled"},
    "paid": {"start": "preparing", "cancel": "cancelled"},
    "preparing": {"ready": "ready", "cancel": "cancelled"},
    "ready": {"recall": "preparing", "complete": "done", "cancel": "cancelled"},
    "done": {"invoice": "invoiced"},
    "invoiced": {},
    "cancelled": {},
}
PATH = {
    "validated": ["validate"],
    "paid": ["validate", "pay"],
    "preparing": ["validate", "pay", "start"],
    "ready": ["validate", "pay", "start", "ready"],
    "done": ["validate", "pay", "start", "ready", "complete"],
    "invoiced": ["validate", "pay", "start", "ready", "complete", "invoice"],
    "cancelled": ["cancel"],
}
PAYMENT = {"payments": [{"method_id": 1, "amount": "100.00"}]}


def _order_in(api: Api, session: int, state: str) -> int:
    order = api.create(session, [{"product_id": 1, "qty": "1"}])
    for event in PATH.get(state, []):
        r = api.fire(order["id"], event, PAYMENT if event == "pay" else None, as_="marco")
        assert r.status_code == 200, r.text
    return int(order["id"])


@pytest.fixture(scope="module")
def session_id(served_hub: object) -> int:
    from tests.support.hub_process import HubProcess

    assert isinstance(served_hub, HubProcess)
    client = Api(served_hub.url)
    sid = client.open_session("marco")
    client.close()
    return sid


@pytest.mark.parametrize(("state", "event"), list(itertools.product(STATES, EVENTS)))
def test_state_event_table(api: Api, session_id: int, state: str, event: str) -> None:
    """The machine allows exactly the moves of its table (hub/orders/machine.py), and a
    refusal lists what is allowed."""
    order_id = _order_in(api, session_id, state)
    r = api.fire(order_id, event, PAYMENT if event == "pay" else None, as_="marco")
    if event in LEGAL[state]:
        assert r.status_code == 200, r.text
        assert r.json()["state"] == LEGAL[state][event]
    else:
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["error"] == "invalid_transition"
        assert body["detail"]["state"] == state
        assert body["detail"]["event"] == event
        assert sorted(body["detail"]["allowed"]) == sorted(LEGAL[state])
        after = api.get(f"/api/v1/orders/{order_id}").json()
        assert after["state"] == state
        assert len(after["state_history"]) == len(PATH.get(state, [])) + 1


def test_unknown_event_is_404(api: Api, session_id: int) -> None:
    """A misspelt transition is a missing route, not a server error."""
    order_id = _order_in(api, session_id, "draft")
    assert api.fire(order_id, "teleport").status_code == 404
