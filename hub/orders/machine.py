"""The order state machine: states, events and the business rules that guard them.

No I/O, no clock, no database: the service loads an ``OrderContext`` with every
fact a rule needs, fires one event, and persists what changed. A rule that
fails raises ``RuleFailed`` naming the rule and its facts; an event that is not
allowed from the current state raises ``TransitionNotAllowed`` (mapped to 409
with the list of events that are).

    draft -validate-> validated -pay-> paid -start-> preparing -ready-> ready -complete-> done
    paid -complete (no kitchen items)-> done;  ready -recall-> preparing
    done -invoice-> invoiced;  draft|validated|paid|preparing|ready -cancel-> cancelled
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from statemachine import State, StateMachine

from hub.errors import RuleFailed
from hub.orders.money import HUNDRED, Money, qty_text

STATES = ("draft", "validated", "paid", "preparing", "ready", "done", "invoiced", "cancelled")
EVENTS = ("validate", "pay", "start", "ready", "recall", "complete", "invoice", "cancel")
PAID_STATES = frozenset({"paid", "preparing", "ready", "done", "invoiced"})


@dataclass(frozen=True, slots=True)
class ProductFacts:
    id: int
    name: str
    price: int
    active: bool
    sale_ok: bool
    stock_tracked: bool
    qty_available: Decimal | None


@dataclass(frozen=True, slots=True)
class LineFacts:
    position: int
    product_id: int
    qty: Decimal
    price_unit: int
    discount: Decimal
    manual_price: bool
    override_by: int | None
    station: str | None
    product: ProductFacts | None


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    method_id: int
    amount: int
    known: bool
    is_cash: bool


@dataclass
class OrderContext:
    """Every fact the rules read; built by the service, never by the machine."""

    money: Money
    lines: list[LineFacts]
    amount_total: int
    max_discount_pct: Decimal
    payments: list[PaymentFacts] = field(default_factory=list)

    @property
    def has_kitchen_items(self) -> bool:
        return any(line.station for line in self.lines)


class OrderState:
    """The minimal model the machine drives: one ``state`` attribute."""

    def __init__(self, state: str) -> None:
        self.state = state


class OrderMachine(StateMachine):
    """Quick-service order flow; a rejected event names the rule that failed."""

    draft = State(initial=True, value="draft")
    validated = State(value="validated")
    paid = State(value="paid")
    preparing = State(value="preparing")
    ready_ = State(value="ready")
    done = State(value="done")
    invoiced = State(final=True, value="invoiced")
    cancelled = State(final=True, value="cancelled")

    validate = draft.to(
        validated,
        validators=["rule_lines_present", "rule_products_sellable", "rule_prices", "rule_stock"],
    )
    pay = validated.to(
        paid,
        validators=[
            "rule_payment_methods_known",
            "rule_payments_cover_total",
            "rule_change_from_cash",
            "rule_stock",
        ],
    )
    start = paid.to(preparing, cond="has_kitchen_items")
    ready = preparing.to(ready_)
    recall = ready_.to(preparing)
    complete = ready_.to(done) | paid.to(done, unless="has_kitchen_items")
    invoice = done.to(invoiced)
    cancel = (
        draft.to(cancelled)
        | validated.to(cancelled)
        | paid.to(cancelled)
        | preparing.to(cancelled)
        | ready_.to(cancelled)
    )

    def __init__(self, model: OrderState, context: OrderContext) -> None:
        self.context = context
        super().__init__(model, state_field="state")

    def enabled(self) -> list[str]:
        """Events that may be sent now (conditions checked, business rules not)."""
        return [e.id for e in self.enabled_events()]

    # Conditions: decide *which* transition applies; no facts to report.

    def has_kitchen_items(self) -> bool:
        return self.context.has_kitchen_items

    # Business rules: raise RuleFailed with the facts a cashier needs to fix it.

    def rule_lines_present(self) -> None:
        if not self.context.lines:
            raise RuleFailed("lines_present", "an order needs at least one line")

    def rule_products_sellable(self) -> None:
        for line in self.context.lines:
            product = line.product
            if product is None:
                raise RuleFailed(
                    "product_known",
                    f"product {line.product_id} is not in the catalogue",
                    line=line.position,
                    product_id=line.product_id,
                )
            if not product.active:
                raise RuleFailed(
                    "product_active",
                    f"{product.name} is archived",
                    line=line.position,
                    product_id=product.id,
                )
            if not product.sale_ok:
                raise RuleFailed(
                    "product_sellable",
                    f"{product.name} cannot be sold",
                    line=line.position,
                    product_id=product.id,
                )

    def rule_prices(self) -> None:
        money = self.context.money
        for line in self.context.lines:
            product = line.product
            assert product is not None  # rule_products_sellable ran first
            effective = Decimal(line.price_unit) * (1 - line.discount / HUNDRED)
            if effective == product.price and not line.manual_price:
                continue
            if line.price_unit == product.price and line.discount == 0:
                continue
            facts: dict[str, Any] = {
                "line": line.position,
                "product_id": product.id,
                "catalogue_price": money.text(product.price),
                "price_unit": money.text(line.price_unit),
                "discount": qty_text(line.discount),
            }
            if line.override_by is None:
                raise RuleFailed(
                    "price_override_unapproved",
                    f"the price of {product.name} differs from the catalogue "
                    "and no manager approved it",
                    **facts,
                )
            if product.price == 0:
                reduction = Decimal(0) if effective == 0 else Decimal(-1)
            else:
                reduction = (1 - effective / product.price) * HUNDRED
            if reduction > self.context.max_discount_pct:
                raise RuleFailed(
                    "discount_limit",
                    f"{product.name} is discounted {reduction.quantize(Decimal('0.01'))}%, "
                    f"above the {self.context.max_discount_pct}% limit",
                    reduction_pct=str(reduction.quantize(Decimal("0.01"))),
                    limit_pct=str(self.context.max_discount_pct),
                    **facts,
                )

    def rule_stock(self) -> None:
        wanted: dict[int, Decimal] = defaultdict(Decimal)
        products: dict[int, ProductFacts] = {}
        for line in self.context.lines:
            if line.product is not None and line.product.stock_tracked:
                wanted[line.product.id] += line.qty
                products[line.product.id] = line.product
        for product_id, qty in wanted.items():
            available = products[product_id].qty_available or Decimal(0)
            if qty > available:
                raise RuleFailed(
                    "stock_available",
                    f"only {qty_text(available)} of {products[product_id].name} left",
                    product_id=product_id,
                    requested=qty_text(qty),
                    available=qty_text(available),
                )

    def rule_payment_methods_known(self) -> None:
        if not self.context.payments:
            raise RuleFailed("payments_present", "pay needs at least one payment")
        for payment in self.context.payments:
            if not payment.known:
                raise RuleFailed(
                    "payment_method_known",
                    f"payment method {payment.method_id} is unknown or inactive",
                    method_id=payment.method_id,
                )

    def rule_payments_cover_total(self) -> None:
        paid = sum(p.amount for p in self.context.payments)
        if paid < self.context.amount_total:
            money = self.context.money
            raise RuleFailed(
                "payments_cover_total",
                f"payments of {money.text(paid)} do not cover "
                f"the total of {money.text(self.context.amount_total)}",
                amount_total=money.text(self.context.amount_total),
                amount_paid=money.text(paid),
                missing=money.text(self.context.amount_total - paid),
            )

    def rule_change_from_cash(self) -> None:
        paid = sum(p.amount for p in self.context.payments)
        change = paid - self.context.amount_total
        cash = sum(p.amount for p in self.context.payments if p.is_cash)
        if change > cash:
            money = self.context.money
            raise RuleFailed(
                "change_from_cash",
                "change can only be given back from cash: non-cash payments exceed the total",
                change=money.text(change),
                cash_paid=money.text(cash),
            )


TRANSITIONS = frozenset(
    (str(event.id), str(state.value))
    for state in OrderMachine.states
    for transition in state.transitions
    for event in transition.events
)
"""Every (event, source state) the machine has a transition for, its conditions aside."""

TARGETS = {
    str(event.id): str(transition.target.value)
    for state in OrderMachine.states
    for transition in state.transitions
    for event in transition.events
}
"""Where each event leads: one state per event, wherever it is fired from."""


_spare = threading.local()


@contextmanager
def machine_for(state: str, context: OrderContext) -> Iterator[OrderMachine]:
    """An ``OrderMachine`` standing in ``state`` over ``context``, reusing this thread's spare.

    Building a python-statemachine instance resolves every callback of the
    class again (about 260 µs here, three times the cost of the transition it
    then runs), so each thread keeps one spare machine and points it at the
    next order: the machine reads its state from its model on every step, and
    the rules read only ``context``. A machine that raised, or whose engine
    stopped in a final state, is not kept; the next caller builds a new one.
    """
    machine: OrderMachine | None = getattr(_spare, "machine", None)
    _spare.machine = None
    if machine is None:
        machine = OrderMachine(OrderState(state), context)
    else:
        machine.context = context
        machine.current_state_value = state
    yield machine
    if not machine.is_terminated:
        _spare.machine = machine
