"""The screens in a real browser: Debian's chromium driven by Playwright, against a served hub.

One hub and one browser per test module (starting Chromium costs about a
second); each test opens its own pages. Screenshots go to ``artifacts/screens/``
(ignored by git) for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import demo_database
from tests.support.api_client import Api
from tests.support.hub_process import HubProcess

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
GRILL_BURGER = 1  # demo products: Classic Burger (grill), Espresso (bar)
BAR_ESPRESSO = 10


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    served = HubProcess(demo_database(tmp_path_factory.mktemp("screens") / "edgehub.db")).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def till(hub: HubProcess) -> Iterator[Api]:
    client = Api(hub.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under artifacts/screens/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def paid_order(till: Api, session_id: int, *lines: tuple[int, str]) -> dict[str, Any]:
    """Create, validate and pay an order at the till; returns the paid order."""
    order = till.create(session_id, [{"product_id": p, "qty": q} for p, q in lines])
    r = till.fire(order["id"], "validate")
    assert r.status_code == 200, r.text
    r = till.pay_exact(r.json())
    assert r.status_code == 200, r.text
    return dict(r.json())


def sign_in(page: Any, login: str, pin: str) -> None:
    page.fill("#login input[name=login]", login)
    page.fill("#login input[name=pin]", pin)
    page.press("#login input[name=pin]", "Enter")


@contextmanager
def live_page(browser: Any, url: str, login: str | None = None, pin: str = "") -> Iterator[Any]:
    """A tablet-sized page at ``url``, signed in as ``login`` if given, once its link is live."""
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    page.goto(url)
    if login is not None:
        sign_in(page, login, pin)
    page.wait_for_selector("#link[data-state=live]", timeout=5000)
    yield page
    context.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
