"""The store's running routes answer what their OpenAPI types say, on real data: each answer
converts strictly to the type its route documents (hub.web.api.operations_bodies)."""

from __future__ import annotations

import pytest

from hub.web.api.operations_bodies import (
    CacheStats,
    CategoryRecord,
    Dashboard,
    DevicePage,
    JobList,
    RealtimeStats,
    StationList,
    StationProductList,
    SyncStatus,
    Tax,
    TaxList,
    Unlocked,
)
from tests.support.api_client import Api
from tests.support.bodies import typed
from tests.support.hub_process import HubProcess
from tests.support.ws_client import subscribe, ws_client

pytestmark = pytest.mark.anyio

GRILL_BURGER = 1


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_the_dashboard_of_a_day_with_a_paid_kitchen_order(module_api: Api) -> None:
    """Every panel filled: takings, an open session, a ticket waiting, the audit trail."""
    session = module_api.open_session()
    order = module_api.create(session, [{"product_id": GRILL_BURGER, "qty": "1"}])
    module_api.fire(order["id"], "validate")
    assert module_api.pay_exact(order).status_code == 200
    board = typed(module_api.get("/api/v1/dashboard", as_="marco"), Dashboard)
    assert board["takings"] and board["open_sessions"] and board["audit"]
    assert board["kitchen"]["waiting"] >= 1


def test_the_counters_and_the_scheduled_jobs(module_api: Api) -> None:
    cache = typed(module_api.get("/api/v1/cache/stats", as_="marco"), CacheStats)
    assert cache["kinds"]["actor"]["hits"] + cache["kinds"]["actor"]["misses"] >= 1
    typed(module_api.get("/api/v1/realtime/stats", as_="marco"), RealtimeStats)
    jobs = typed(module_api.get("/api/v1/jobs", as_="marco"), JobList)
    assert jobs["items"] and jobs["next"] is None
    sync = typed(module_api.get("/api/v1/sync/status", as_="marco"), SyncStatus)
    assert sync["state"] == "idle"


def test_the_kitchen_stations_and_their_products(module_api: Api) -> None:
    stations = typed(module_api.get("/api/v1/kitchen/stations", as_="kitchen"), StationList)
    assert "grill" in stations["items"]
    params = {"station": stations["items"]}
    answer = module_api.get("/api/v1/kitchen/products", as_="kitchen", params=params)
    assert typed(answer, StationProductList)["items"]


def test_taxes_and_categories_as_a_manager_writes_them(module_api: Api) -> None:
    tax = typed(module_api.post("/api/v1/taxes", {"name": "Eco", "amount": "2"}, "marco"), Tax)
    edited = typed(module_api.patch(f"/api/v1/taxes/{tax['id']}", {"active": False}, "marco"), Tax)
    assert edited["active"] is False
    assert typed(module_api.get("/api/v1/taxes"), TaxList)["items"]
    made = module_api.post("/api/v1/categories", {"name": "Soups"}, "marco")
    category = typed(made, CategoryRecord)
    path = f"/api/v1/categories/{category['id']}"
    assert (
        typed(module_api.patch(path, {"active": False}, "marco"), CategoryRecord)["active"] is False
    )


def test_unlocking_a_login(module_api: Api) -> None:
    unlocked = typed(module_api.post("/api/v1/users/ana/unlock", as_="marco"), Unlocked)
    assert unlocked["login"] == "ana"


async def test_a_connected_terminal_is_a_typed_device(
    module_hub: HubProcess, module_api: Api
) -> None:
    """A WebSocket client's item carries its own fields (transport, user, client)."""
    token = module_api.token("ana")
    async with ws_client(module_hub.url, token=token, client="till-7") as ws:
        await subscribe(ws, "board")
        page = typed(module_api.get("/api/v1/devices", as_="marco"), DevicePage)
    (till,) = [d for d in page["items"] if d.get("client") == "till-7"]
    assert till.get("transport") == "ws" and till["online"] is True and till.get("user")
