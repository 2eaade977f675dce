"""The effects table beside the machine: every entry reaches a transition, and money moves
only where the machine's paid states say."""

from __future__ import annotations

import pytest

from hub.orders.effects import (
    DECLARED,
    EFFECTS,
    KITCHEN_STATUS,
    Effects,
    Payments,
    effects_of,
    kitchen_status,
)
from hub.orders.machine import PAID_STATES, STATES, TRANSITIONS


@pytest.mark.parametrize(("event", "sources", "effects"), DECLARED)
def test_every_declared_row_reaches_a_transition(
    event: str, sources: frozenset[str] | None, effects: Effects
) -> None:
    """A misspelt event or a state the machine never leaves with it would be an effect never run."""
    covered = {
        src for name, src in TRANSITIONS if name == event and (sources is None or src in sources)
    }
    assert covered
    assert all(effects_of(event, src) is effects for src in covered)


@pytest.mark.parametrize(("event", "src"), sorted(TRANSITIONS))
def test_money_is_refunded_only_by_cancelling_a_paid_order(event: str, src: str) -> None:
    """A refund needs a manager: it must follow from the order being paid, nothing else."""
    refunds = effects_of(event, src).payments is Payments.REFUND
    assert refunds == (event == "cancel" and src in PAID_STATES)


def test_every_state_has_its_kitchen_status() -> None:
    """An order entering a state the table forgot would lose its kitchen status."""
    assert set(KITCHEN_STATUS) == set(STATES)
    assert all(kitchen_status(state, has_kitchen_items=False) is None for state in STATES)
    assert kitchen_status("paid", has_kitchen_items=True) == "queued"


def test_no_transition_is_declared_twice() -> None:
    """Two rows for one transition would leave which effects run to the order of the table."""
    pairs = [
        (event, src)
        for event, sources, _ in DECLARED
        for name, src in TRANSITIONS
        if name == event and (sources is None or src in sources)
    ]
    assert len(pairs) == len(set(pairs)) == len(EFFECTS)
