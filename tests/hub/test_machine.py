"""The order machine on its own: a reused machine answers exactly as a new one would.

``machine_for`` keeps one spare machine per thread and points it at the next
order; these tests walk it through the moves that could leave it wrong (a rule
failing mid-send, a final state stopping its engine) and compare it with a
freshly built machine for every state.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.errors import RuleFailed
from hub.orders.machine import (
    STATES,
    TARGETS,
    LineFacts,
    OrderContext,
    OrderMachine,
    OrderState,
    PaymentFacts,
    ProductFacts,
    machine_for,
)
from hub.orders.money import Money

COFFEE = ProductFacts(1, "Coffee", 250, True, True, False, None)


def context(*, kitchen: bool, paid: int = 0) -> OrderContext:
    line = LineFacts(
        1, 1, Decimal(2), 250, Decimal(0), False, None, "bar" if kitchen else None, COFFEE
    )
    payments = [PaymentFacts(1, paid, True, True)] if paid else []
    return OrderContext(Money(2), [line], 500, Decimal(20), payments)


@pytest.mark.parametrize("kitchen", [True, False])
@pytest.mark.parametrize("state", STATES)
def test_a_reused_machine_enables_what_a_new_one_does(state: str, kitchen: bool) -> None:
    ctx = context(kitchen=kitchen)
    fresh = OrderMachine(OrderState(state), ctx).enabled()
    with machine_for("draft", context(kitchen=not kitchen)) as warm:  # leave a spare behind
        warm.send("validate")
    with machine_for(state, ctx) as reused:
        assert reused.enabled() == fresh


def test_a_machine_whose_rule_failed_is_not_reused() -> None:
    with pytest.raises(RuleFailed), machine_for("validated", context(kitchen=False)) as failed:
        failed.send("pay")  # no payments: rule_payment_methods_known fails
    with machine_for("validated", context(kitchen=False, paid=500)) as machine:
        assert machine is not failed
        machine.send("pay")
        assert machine.current_state_value == "paid"


def test_a_machine_stopped_in_a_final_state_is_not_reused() -> None:
    with machine_for("draft", context(kitchen=False)) as cancelled:
        cancelled.send("cancel")
        assert cancelled.is_terminated
    with machine_for("draft", context(kitchen=False)) as machine:
        assert machine is not cancelled
        assert "validate" in machine.enabled()
        machine.send("validate")
        assert machine.current_state_value == "validated"


def test_a_spare_machine_is_reused_and_follows_the_new_order() -> None:
    with machine_for("draft", context(kitchen=True)) as first:
        first.send("validate")
    with machine_for("paid", context(kitchen=False)) as second:
        assert second is first
        second.send("complete")  # no kitchen items now: paid -> done directly
        assert second.current_state_value == "done"


def test_each_event_leads_to_one_state() -> None:
    """Bumps tell a late station's repeat by the state an event leads to: it must be one."""
    targets: dict[str, set[str]] = {}
    for state in OrderMachine.states:
        for transition in state.transitions:
            targets.setdefault(transition.event, set()).add(transition.target.value)
    assert {event: {target} for event, target in TARGETS.items()} == targets
