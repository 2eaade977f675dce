"""bench.kds: how soon the kitchen display paints a new ticket, with 40 already open.

    .venv/bin/python -m bench.kds [--open 40] [--tickets 20]

One run, on a temporary demo-store database and a hub of its own
(`edgehub serve`), with the grill's screen open in headless Chromium
(Debian's /usr/bin/chromium, driven by Playwright) at 1280x800:

  * baseline: --tickets orders paid one after another onto an empty screen;
  * loaded: --open orders paid first (their cards drawn), then --tickets more,
    one after another, each painted beside the 40+ already there.

Measured in the page, on the Performance API's clock, from the WebSocket
frame's arrival (``MessageEvent.timeStamp``) to:

  * paint: the new card's first paint (Element Timing, ``renderTime`` of its
    number, an ``elementtiming`` element);
  * frame: the end of the first animation frame after the card was inserted
    (``requestAnimationFrame`` then a task): an upper bound on the same thing.

Prints p50/p95/max per phase; the goal is a p95 paint under 100 ms loaded.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from bench.http_load import percentile
from bench.workload import free_port, serve
from hub.db.connection import immediate, open_db
from hub.db.migrations import migrate
from hub.demo import load_demo
from hub.settings import Settings

CHROMIUM = "/usr/bin/chromium"
GRILL_BURGER = 1


class Till:
    """Just enough of a till over HTTP to pay orders with a grill line."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = self._call("/api/v1/auth/token", {"login": "ana", "pin": "1234"}, None)[
            "access_token"
        ]
        self.session = self._call("/api/v1/sessions", {"terminal": "bench", "opening_cash": "0"})[
            "id"
        ]

    def _call(self, path: str, body: Any, token: str | None = "") -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        bearer = self.token if token == "" else token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as r:
            result: dict[str, Any] = json.load(r)
            return result

    def pay(self) -> dict[str, Any]:
        order = self._call(
            "/api/v1/orders",
            {
                "uuid": str(uuid.uuid4()),
                "session_id": self.session,
                "lines": [{"product_id": GRILL_BURGER, "qty": "1"}],
            },
        )
        order = self._call(f"/api/v1/orders/{order['id']}/validate", {})
        payment = {"method_id": 2, "amount": order["amount_total"]}
        return self._call(f"/api/v1/orders/{order['id']}/pay", {"payments": [payment]})


def kitchen_token(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        data=json.dumps({"login": "kitchen", "pin": "5555"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as r:
        return str(json.load(r)["access_token"])


def phase(page: Any, till: Till, count: int) -> tuple[list[float], list[float]]:
    """Pay ``count`` orders one at a time, each waited for on screen; the page's figures."""
    page.evaluate("kds.paints.length = 0; kds.frames.length = 0")
    for done in range(1, count + 1):
        order = till.pay()
        page.wait_for_selector(f'li.ticket[data-order="{order["id"]}"]', timeout=5000)
        # A function, not a string: the page's CSP allows no eval.
        page.wait_for_function("n => kds.frames.length >= n", arg=done, timeout=5000)
    page.wait_for_timeout(200)  # the last Element Timing entry is delivered after its frame
    paints: list[float] = page.evaluate("kds.paints.slice()")
    frames: list[float] = page.evaluate("kds.frames.slice()")
    return paints, frames


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name:<22} (no entries)"
    return (
        f"  {name:<22} n={len(values):<3} p50={percentile(values, 50):6.1f} ms  "
        f"p95={percentile(values, 95):6.1f} ms  max={max(values):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=40, help="tickets open before measuring")
    parser.add_argument("--tickets", type=int, default=20, help="new tickets measured per phase")
    args = parser.parse_args()
    if shutil.which(CHROMIUM) is None:
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(db=Path(tmp) / "kds.db", pin_hash_iterations=1000, mqtt_url="")
        db = open_db(settings)
        migrate(db)
        with immediate(db):
            load_demo(db, pin_iterations=1000)
        db.close()
        port = free_port()
        hub = serve(settings, None, "bench", port)
        try:
            till = Till(port)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"http://127.0.0.1:{port}/kds?station=grill#token={kitchen_token(port)}")
                page.wait_for_selector("#link[data-state=live]", timeout=10000)
                print(f"bench.kds: grill screen in Chromium {browser.version}, 1280x800")
                base_paint, base_frame = phase(page, till, args.tickets)
                started = time.perf_counter()
                for _ in range(args.open):
                    till.pay()
                page.wait_for_function(
                    "n => document.querySelectorAll('li.ticket').length >= n",
                    arg=args.tickets + args.open,
                    timeout=30000,
                )
                print(f"  {args.open} more tickets opened in {time.perf_counter() - started:.1f} s")
                # The baseline's tickets stay open too: the loaded phase starts with
                # args.tickets + args.open cards on screen.
                load_paint, load_frame = phase(page, till, args.tickets)
                shown = page.evaluate("document.querySelectorAll('li.ticket').length")
                browser.close()
        finally:
            hub.terminate()
            hub.wait(timeout=10)
    print("baseline (empty screen):")
    print(line("frame -> first paint", base_paint))
    print(line("frame -> next frame", base_frame))
    print(f"loaded ({args.tickets + args.open}+ open tickets, {shown} at the end):")
    print(line("frame -> first paint", load_paint))
    print(line("frame -> next frame", load_frame))
    if load_paint:
        ratio = percentile(load_paint, 95) / max(0.1, percentile(base_paint, 95))
        print(f"  p95 paint loaded / baseline: {ratio:.2f}x")


if __name__ == "__main__":
    main()
