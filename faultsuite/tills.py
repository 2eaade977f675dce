"""The tills: cashiers selling over HTTP while the hub under them is killed and restarted.

A till behaves as a careful real one must: it sends each request to its own
hub process and, when no answer comes (a connection refused or cut, a 503),
tries again on the other. A create is retried with the same uuid and body (the
hub answers the same order). A transition whose answer was lost is never sent
blindly again: the till reads the order back and sends it again only if it did
not happen, so a payment committed just before a SIGKILL is paid once.

Everything a till was told with a 2xx goes into its ``Receipt``s: the ledger
holds the hub to them.
"""

from __future__ import annotations

import random
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from faultsuite.local_http import TLS

if TYPE_CHECKING:
    from faultsuite.paytrap import PayTrap

PINS = {"ana": "1234", "marco": "9999", "kitchen": "5555"}
PAID_STATES = {"paid", "preparing", "ready", "done", "invoiced"}
GIVE_UP_SECONDS = 120.0
# What an order's state shows once each transition has happened.
DONE_WHEN = {
    "validate": lambda s: s != "draft",
    "pay": lambda s: s in PAID_STATES or s == "cancelled",
    "cancel": lambda s: s == "cancelled",
}


class TillGaveUp(RuntimeError):
    """No hub answered for GIVE_UP_SECONDS: the run cannot go on."""


@dataclass
class Receipt:
    """What the hub told one till about one order, each fact from a 2xx answer."""

    uuid: str
    id: int | None = None
    amount_total: str | None = None
    acked: list[str] = field(default_factory=list)  # "create", "validate", "pay", "cancel"
    learned_by_readback: list[str] = field(default_factory=list)
    pay_requests: int = 0
    refused: list[str] = field(default_factory=list)  # 409s the till took as "not now"


class Hubs:
    """The till's view of the store's hub processes: any of them will do."""

    def __init__(self, urls: list[str], prefer: int) -> None:
        self.urls = urls[prefer:] + urls[:prefer]
        self.clients = [httpx.Client(base_url=u, timeout=5.0, verify=TLS) for u in self.urls]
        self.tokens: dict[str, str] = {}

    def token(self, login: str) -> str:
        if login not in self.tokens:
            r = self.request(
                "POST", "/api/v1/auth/token", {"login": login, "pin": PINS[login]}, None
            )
            if r.status_code != 200:
                raise RuntimeError(f"login {login}: {r.status_code} {r.text}")
            self.tokens[login] = r.json()["access_token"]
        return self.tokens[login]

    def request(
        self,
        method: str,
        path: str,
        body: Any,
        login: str | None,
        *,
        once: bool = False,
        via: str | None = None,
    ) -> httpx.Response:
        """The first real answer from any hub.

        With ``once``, a request that reached a hub and lost its answer is not
        sent again: the error is raised for the caller to read the order back.

        ``via``: send this one request through that URL (the fault schedule's relay).
        """
        headers = {"Authorization": f"Bearer {self.token(login)}"} if login else {}
        if via is not None:
            with httpx.Client(base_url=via, timeout=10.0, verify=TLS) as relay:
                return relay.request(method, path, json=body, headers=headers)
        deadline = time.monotonic() + GIVE_UP_SECONDS
        while True:
            for client in self.clients:
                try:
                    r = client.request(method, path, json=body, headers=headers)
                except (httpx.ConnectError, httpx.ConnectTimeout):
                    continue  # never sent: that hub is down, try the next
                except httpx.TransportError:
                    if once:
                        raise  # sent, answer lost: the caller reads back
                    continue
                if r.status_code != 503:
                    return r
            if time.monotonic() > deadline:
                raise TillGaveUp(f"{method} {path}: no hub answered for {GIVE_UP_SECONDS:.0f} s")
            time.sleep(0.2)

    def close(self) -> None:
        for client in self.clients:
            client.close()


class Till(threading.Thread):
    """One till in a thread: opens a session, then sells until told to stop."""

    def __init__(
        self,
        number: int,
        urls: list[str],
        rng: random.Random,
        take_order: Callable[[], bool],
        pay_trap: Callable[[], PayTrap | None],
        cancel_rate: float = 0.08,
    ) -> None:
        super().__init__(name=f"till-{number}", daemon=True)
        self.number = number
        self.hubs = Hubs(urls, number % len(urls))
        self.rng = rng
        self.take_order = take_order
        self.pay_trap = pay_trap
        self.cancel_rate = cancel_rate
        self.receipts: list[Receipt] = []
        self.durations: list[float] = []  # seconds from create to the last answer, per order
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            self._sell()
        except BaseException as exc:  # reported by the run, which fails
            self.error = exc
        finally:
            self.hubs.close()

    def _sell(self) -> None:
        products, method = self._catalogue()
        r = self.hubs.request(
            "POST", "/api/v1/sessions", {"terminal": f"till-{self.number}", "opening_cash": "0"},
            "ana",
        )  # fmt: skip
        if r.status_code != 201:
            raise RuntimeError(f"open session: {r.status_code} {r.text}")
        session = r.json()["id"]
        while not self.stop.is_set() and self.take_order():
            lines = [
                {"product_id": p, "qty": str(self.rng.randint(1, 3))}
                for p in self.rng.sample(products, self.rng.randint(1, len(products)))
            ]
            started = time.monotonic()
            self.sell_one(session, lines, method)
            self.durations.append(time.monotonic() - started)

    def _catalogue(self) -> tuple[list[int], int]:
        """The products and the card method Odoo gave the hub (they are what head office knows)."""
        r = self.hubs.request("GET", "/api/v1/products?limit=500", None, "ana")
        products = [p["id"] for p in r.json()["items"] if p["remote_id"] is not None]
        r = self.hubs.request("GET", "/api/v1/payment-methods", None, "ana")
        methods = [m for m in r.json()["items"] if m["remote_id"] is not None]
        card = next(m for m in methods if not m["is_cash"])
        return products, int(card["id"])

    def sell_one(self, session: int, lines: list[dict[str, Any]], method: int) -> Receipt:
        receipt = Receipt(uuid=str(uuidlib.uuid4()))
        self.receipts.append(receipt)
        body = {"uuid": receipt.uuid, "session_id": session, "lines": lines}
        r = self.hubs.request("POST", "/api/v1/orders", body, "ana")
        if r.status_code not in (200, 201):
            raise RuntimeError(f"create: {r.status_code} {r.text}")
        order = r.json()
        receipt.id, receipt.amount_total = order["id"], order["amount_total"]
        receipt.acked.append("create")
        roll = self.rng.random()
        if roll < self.cancel_rate / 2:  # the customer walks away before paying
            self.transition(receipt, "cancel", {"reason": "walked away"}, "ana")
            return receipt
        self.transition(receipt, "validate", None, "ana")
        payment = {"payments": [{"method_id": method, "amount": receipt.amount_total}]}
        self.transition(receipt, "pay", payment, "ana")
        if roll < self.cancel_rate:  # paid, then changed their mind: a manager refunds
            self.transition(receipt, "cancel", {"reason": "changed mind"}, "marco")
        return receipt

    def transition(self, receipt: Receipt, event: str, body: Any, login: str) -> None:
        """Fire ``event``; if the answer is lost, read the order back before firing again."""
        path = f"/api/v1/orders/{receipt.id}/{event}"
        while True:
            trap = self.pay_trap() if event == "pay" else None
            if event == "pay":
                receipt.pay_requests += 1
            via = trap.spring(self.hubs.urls) if trap is not None else None
            try:
                r = self.hubs.request("POST", path, body, login, once=True, via=via)
            except httpx.TransportError:
                state = self.read_back(receipt)
                done = DONE_WHEN[event](state)
                if trap is not None:
                    trap.settle("committed" if done else "not committed")
                if done:
                    receipt.acked.append(event)
                    receipt.learned_by_readback.append(event)
                    return
                continue
            if trap is not None:
                trap.settle("answered")
            if 200 <= r.status_code < 300:
                receipt.acked.append(event)
                return
            if r.status_code == 409 and event == "cancel":
                receipt.refused.append(event)  # e.g. the kitchen already bumped it ready
                return
            raise RuntimeError(f"{event} order {receipt.id}: {r.status_code} {r.text}")

    def read_back(self, receipt: Receipt) -> str:
        r = self.hubs.request("GET", f"/api/v1/orders/{receipt.id}", None, "ana")
        if r.status_code != 200:
            raise RuntimeError(f"read back order {receipt.id}: {r.status_code} {r.text}")
        return str(r.json()["state"])
