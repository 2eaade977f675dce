"""Hypothesis drives random events at random orders: row, history and log always agree.

This runs the service functions in-process on a real SQLite file (no HTTP), so
Hypothesis can explore thousands of interleavings in seconds.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hub.auth.users import Actor
from hub.db.connection import immediate, open_db
from hub.errors import HubError
from hub.orders import commands
from hub.orders.machine import EVENTS, PAID_STATES
from hub.orders.money import Money
from hub.sessions import open_session
from tests.conftest import demo_database, make_settings

MONEY = Money(2)
RULES = commands.OrderRules(money=MONEY, store="demo", max_discount_pct=Decimal(30))
ACTORS = [
    Actor(id=3, role="cashier", name="Ana"),
    Actor(id=2, role="manager", name="Marco"),
    Actor(id=4, role="kitchen", name="Kitchen"),
]
PRODUCTS = [1, 7, 10, 19, 29, 30, 32]  # grill, grill, bar, cold, two stock-tracked, retail


def cents(text: str) -> int:
    return MONEY.to_minor(Decimal(text))


class OrderFlow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        path = demo_database(Path(self.dir.name) / "edgehub.db")
        self.db = open_db(make_settings(path))
        with immediate(self.db):
            self.session = open_session(
                self.db, MONEY, ACTORS[0], terminal="till", opening_cash=0
            ).id
        self.initial_stock = dict(
            self.db.execute("SELECT product_id, qty_available FROM stock").fetchall()
        )
        self.order_ids: list[int] = []

    def teardown(self) -> None:
        self.db.close()
        self.dir.cleanup()

    @rule(
        lines=st.lists(
            st.tuples(st.sampled_from(PRODUCTS), st.integers(min_value=1, max_value=3)),
            max_size=4,
        ),
        uuid=st.uuids(),
    )
    def create(self, lines: list[tuple[int, int]], uuid: Any) -> None:
        inputs = [commands.LineInput(product_id=p, qty=Decimal(q)) for p, q in lines]
        with immediate(self.db):
            order, created = commands.create_order(
                self.db,
                RULES,
                ACTORS[0],
                uuid=str(uuid),
                session_id=self.session,
                lines=inputs,
                note="",
                fingerprint=str(uuid),
            )
        assert created
        self.order_ids.append(order.id)

    @precondition(lambda self: self.order_ids)
    @rule(
        data=st.data(),
        event=st.sampled_from(EVENTS),
        actor=st.sampled_from(ACTORS),
        pay_mode=st.sampled_from(["exact", "cash_over", "short", "card_over"]),
    )
    def fire(self, data: st.DataObject, event: str, actor: Actor, pay_mode: str) -> None:
        order_id = data.draw(st.sampled_from(self.order_ids))
        total = self.db.execute(
            "SELECT amount_total FROM orders WHERE id = ?", (order_id,)
        ).fetchone()[0]
        payments = {
            "exact": [commands.PaymentInput(method_id=2, amount=max(total, 1))],
            "cash_over": [commands.PaymentInput(method_id=1, amount=total + 500)],
            "short": [commands.PaymentInput(method_id=1, amount=max(total - 1, 1))],
            "card_over": [commands.PaymentInput(method_id=2, amount=total + 100)],
        }[pay_mode]
        try:
            with immediate(self.db):
                commands.transition(
                    self.db, RULES, actor, order_id, event, payments=payments, reason="test"
                )
            hypothesis.event(f"{event}: moved")
        except HubError as exc:
            hypothesis.event(f"{event}: refused {exc.code}")  # the invariants prove nothing moved

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data(), cash=st.booleans())
    def advance(self, data: st.DataObject, cash: bool) -> None:
        """Move an order one legal step as a manager, so deep states are reached often."""
        order_id = data.draw(st.sampled_from(self.order_ids))
        with immediate(self.db):
            allowed = commands.allowed_events(self.db, RULES, order_id)
        forward = [e for e in allowed if e != "cancel"] or allowed
        if not forward:
            return
        event = data.draw(st.sampled_from(forward))
        total = self.db.execute(
            "SELECT amount_total FROM orders WHERE id = ?", (order_id,)
        ).fetchone()[0]
        payment = commands.PaymentInput(
            method_id=1 if cash else 2, amount=total + (200 if cash else 0)
        )
        try:
            with immediate(self.db):
                commands.transition(self.db, RULES, ACTORS[1], order_id, event, payments=[payment])
            hypothesis.event(f"advance {event}: moved")
        except HubError as exc:
            hypothesis.event(f"advance {event}: refused {exc.code}")

    @invariant()
    def rows_history_and_log_agree(self) -> None:
        events = self.db.execute("SELECT event, data FROM events ORDER BY seq").fetchall()
        order_events: dict[int, list[dict[str, Any]]] = {}
        companions: Counter[tuple[str, int]] = Counter()
        for name, raw in events:
            data = json.loads(raw)
            if name in ("order.created", "order.updated"):
                order_events.setdefault(data["id"], []).append(data)
            elif name in ("payment.processed", "payment.refunded"):
                companions[(name, data["order_id"])] += 1
        for order_id in self.order_ids:
            state = self.db.execute(
                "SELECT state FROM orders WHERE id = ?", (order_id,)
            ).fetchone()[0]
            history = self.db.execute(
                "SELECT from_state, to_state, event FROM order_history "
                "WHERE order_id = ? ORDER BY id",
                (order_id,),
            ).fetchall()
            assert history[0][:2] == (None, "draft")
            for prev, cur in itertools.pairwise(history):
                assert cur[0] == prev[1]
            assert history[-1][1] == state
            logged = order_events[order_id]
            assert len(logged) == len(history)
            assert logged[-1]["state"] == state
            assert [e["state"] for e in logged] == [h[1] for h in history]
            went_through_pay = any(h[2] == "pay" for h in history)
            assert companions[("payment.processed", order_id)] == int(went_through_pay)
            refunded = state == "cancelled" and went_through_pay
            assert companions[("payment.refunded", order_id)] == int(refunded)

    @invariant()
    def money_adds_up(self) -> None:
        for order_id in self.order_ids:
            row = self.db.execute(
                "SELECT state, amount_untaxed, amount_tax, amount_total, amount_paid, change "
                "FROM orders WHERE id = ?",
                (order_id,),
            ).fetchone()
            state, untaxed, tax, total, paid, change = row
            lines = self.db.execute(
                "SELECT subtotal, tax_amount, subtotal_incl FROM order_lines WHERE order_id = ?",
                (order_id,),
            ).fetchall()
            assert untaxed + tax == total
            assert total == sum(line[2] for line in lines)
            assert all(line[0] + line[1] == line[2] for line in lines)
            payments = dict(
                self.db.execute(
                    "SELECT kind, SUM(amount) FROM payments WHERE order_id = ? GROUP BY kind",
                    (order_id,),
                ).fetchall()
            )
            if state in PAID_STATES:
                assert paid == payments.get("payment") and change == paid - total >= 0
                assert "refund" not in payments
            elif state == "cancelled" and paid:
                # Everything kept by the drawer went back: payments - change + refunds = 0.
                assert payments["payment"] - change + payments.get("refund", 0) == 0
            else:
                assert not payments and paid == 0

    @invariant()
    def stock_matches_sales(self) -> None:
        sold: Counter[int] = Counter()
        for product_id, qty in self.db.execute(
            "SELECT l.product_id, l.qty FROM order_lines l JOIN orders o ON o.id = l.order_id "
            f"WHERE o.state IN ({','.join(repr(s) for s in PAID_STATES)})"
        ).fetchall():
            sold[product_id] += int(Decimal(qty))
        for product_id, initial in self.initial_stock.items():
            now = self.db.execute(
                "SELECT qty_available FROM stock WHERE product_id = ?", (product_id,)
            ).fetchone()[0]
            assert Decimal(now) == Decimal(initial) - sold[product_id] >= 0


OrderFlow.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOrderFlow = OrderFlow.TestCase
