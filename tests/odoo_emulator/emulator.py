"""``OdooEmulator``: one Odoo of a chosen version, one database, served on 127.0.0.1.

A test builds one, seeds it (by default a small shop with an open POS
session), starts it, points a client at ``url``, flips ``faults`` while the
client runs, and asserts on what was stored with ``orders()`` and ``records()``.
The test-side methods take the same lock as the requests, so they always see
whole transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

from . import pos
from .faults import Faults
from .http import EmulatorApp, HttpThread
from .models import build_models
from .orm import Clock, Database, Env
from .rpc import OdooServer

VERSIONS = (16, 17, 18, 19)
SUPERUSER_ID = 1


@dataclass(frozen=True)
class Seed:
    """The ids of the demo shop ``seed_shop`` creates."""

    login: str
    api_key: str
    uid: int
    pricelist_id: int
    config_id: int
    session_id: int
    cash_id: int
    card_id: int
    taxes: dict[str, int]
    categories: dict[str, int]
    products: dict[str, int]
    templates: dict[str, int]


class OdooEmulator:
    """An Odoo 16, 17, 18 or 19 server over HTTP, with fault switches."""

    def __init__(self, version: int, *, dbname: str = "edgehub", seed: bool = True) -> None:
        if version not in VERSIONS:
            raise ValueError(f"unsupported Odoo version {version}")
        self.version = version
        self.dbname = dbname
        self.clock = Clock()
        models = build_models(version)
        pos.install(models)
        self.db = Database(models, self.clock, version)
        self.faults = Faults()
        self.server = OdooServer(self.db, dbname, lambda: self.faults.plan.wrong_api_key)
        self.app = EmulatorApp(self.server, self.faults)
        self._http = HttpThread(self.app)
        self._create_base_users()
        self.seed: Seed | None = seed_shop(self) if seed else None

    # -- lifecycle --

    @property
    def url(self) -> str:
        if not self._http.port:
            raise RuntimeError("start the emulator first")
        return f"http://127.0.0.1:{self._http.port}"

    def start(self) -> OdooEmulator:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> OdooEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def go_down(self, how: str = "refused") -> None:
        """Make Odoo unreachable: ``"refused"`` stops listening, ``"502"`` puts a dead gateway."""
        if how == "refused":
            self._http.stop()
        elif how == "502":
            self.faults.set(gateway_down=True)
        else:
            raise ValueError(f"unknown way to go down: {how!r}")

    def come_back(self) -> None:
        """Undo ``go_down``: listen again on the same port, gateway healthy."""
        self.faults.set(gateway_down=False)
        if not self._http.running:
            self._http.start()

    @property
    def calls(self) -> list[str]:
        """Every request received, as ``model.method`` (or ``common.login``, a path...)."""
        return list(self.app.calls)

    # -- direct access for tests (no HTTP) --

    def env(self, uid: int = SUPERUSER_ID, **context: Any) -> Env:
        return Env(self.db, uid, context)

    def create(self, model: str, vals: dict[str, Any]) -> int:
        with self.db.transaction():
            return self.env().create(model, vals)

    def write(self, model: str, ids: Sequence[int], vals: dict[str, Any]) -> None:
        with self.db.transaction():
            self.env().write(model, ids, vals)

    def records(
        self, model: str, domain: Sequence[Any] = (), *, active_test: bool = False
    ) -> list[dict[str, Any]]:
        """Stored rows matching ``domain``, archived ones included unless asked otherwise."""
        with self.db.lock:
            env = self.env(active_test=active_test)
            return env.read(model, env.search(model, list(domain), order="id"), None, load=None)

    def orders(self, domain: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """``pos.order`` rows, each with its ``lines`` and ``payments`` as rows too."""
        with self.db.lock:
            result = []
            for order in self.records("pos.order", domain):
                order["lines"] = self.records("pos.order.line", [("order_id", "=", order["id"])])
                order["payments"] = self.records(
                    "pos.payment", [("pos_order_id", "=", order["id"])]
                )
                result.append(order)
            return result

    def add_user(
        self, login: str, name: str, *, password: str | None = None, api_key: str | None = None
    ) -> int:
        with self.db.transaction():
            uid = self.env().create(
                "res.users", {"login": login, "name": name, "password": password}
            )
            if api_key:
                self.db.api_keys[api_key] = uid
            return uid

    def open_session(self, config_id: int) -> int:
        """Open a session as a cashier does in the POS: open it, then confirm the opening cash."""
        with self.db.transaction():
            env = self.env()
            session_id = env.create("pos.session", {"config_id": config_id})
            pos.session_open(env, [session_id])
            start = env.value("pos.session", session_id, "cash_register_balance_start")
            pos.set_opening_control(env, [session_id], start or 0.0, "")
            return session_id

    def set_session_state(self, session_id: int, state: str) -> None:
        """Force a session's state, as an operator closing the till at head office would."""
        self.write("pos.session", [session_id], {"state": state})

    def advance_clock(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    def set_option(self, name: str, value: Any) -> None:
        """Version-variant behaviour, e.g. ``sync_returns_existing`` (later 18.x/19)."""
        with self.db.lock:
            self.db.options[name] = value

    def _create_base_users(self) -> None:
        with self.db.transaction():
            env = self.env()
            env.create("res.users", {"login": "__system__", "name": "OdooBot", "active": False})
            env.create(
                "res.users", {"login": "admin", "name": "Mitchell Admin", "password": "admin"}
            )
            env.create("res.company", {"name": "My Company"})


def seed_shop(emulator: OdooEmulator) -> Seed:
    """A shop with two taxes, two categories, four products, cash and card, an open session."""
    api_key = f"emulated-api-key-odoo{emulator.version}"
    login = "pos-sync@example.com"
    uid = emulator.add_user(login, "POS Sync", api_key=api_key)
    with emulator.db.transaction():
        env = emulator.env()
        pricelist = env.create("product.pricelist", {"name": "Public Pricelist"})
        vat = env.create("account.tax", {"name": "15%", "amount": 15.0})
        included: dict[str, Any] = (
            {"price_include_override": "tax_included"}
            if emulator.version >= 18
            else {"price_include": True}
        )
        incl = env.create("account.tax", {"name": "10% incl.", "amount": 10.0, **included})
        food = env.create("pos.category", {"name": "Food", "sequence": 1})
        drinks = env.create("pos.category", {"name": "Drinks", "sequence": 2})
        category = "pos_categ_id" if emulator.version <= 16 else "pos_categ_ids"

        def product(code: str, name: str, price: float, tax: int, categ: int) -> int:
            categ_value: Any = categ if emulator.version <= 16 else [categ]
            return env.create(
                "product.product",
                {
                    "name": name,
                    "default_code": code,
                    "barcode": f"2{env.db.next_in_sequence('barcode'):012d}",
                    "lst_price": price,
                    "taxes_id": [[6, 0, [tax]]],
                    category: categ_value,
                    "available_in_pos": True,
                },
            )

        products = {
            "BURGER": product("BURGER", "Burger", 10.0, vat, food),
            "FRIES": product("FRIES", "Fries", 3.5, vat, food),
            "COLA": product("COLA", "Cola", 2.5, incl, drinks),
            "WATER": product("WATER", "Water", 1.5, incl, drinks),
        }
        loss = env.create("account.account", {"name": "Cash Difference Loss"})
        gain = env.create("account.account", {"name": "Cash Difference Gain"})
        journal = env.create(
            "account.journal",
            {"name": "Cash", "loss_account_id": loss, "profit_account_id": gain},
        )
        cash = env.create(
            "pos.payment.method", {"name": "Cash", "is_cash_count": True, "journal_id": journal}
        )
        card = env.create("pos.payment.method", {"name": "Card"})
        config = env.create(
            "pos.config",
            {
                "name": "Shop",
                "payment_method_ids": [[6, 0, [cash, card]]],
                "pricelist_id": pricelist,
            },
        )
    session = emulator.open_session(config)
    return Seed(
        login=login,
        api_key=api_key,
        uid=uid,
        pricelist_id=pricelist,
        config_id=config,
        session_id=session,
        cash_id=cash,
        card_id=card,
        taxes={"vat15": vat, "incl10": incl},
        categories={"food": food, "drinks": drinks},
        products=products,
        templates={
            code: emulator.records("product.product", [("id", "=", pid)])[0]["product_tmpl_id"]
            for code, pid in products.items()
        },
    )
