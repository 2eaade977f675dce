"""The ledger's rules on small, hand-made evidence: each kind of loss and duplicate is named.

The whole-store runs show the rules pass on a healthy store and fail on
damaged evidence (test_fault_suite.py); these show each rule on its own, fast.
"""

from __future__ import annotations

from faultsuite.ledger import Ledger, check_kitchen_coverage, check_orders, check_tickets
from faultsuite.printers import Printed
from faultsuite.tills import Receipt
from hub.orders.models import HistoryEntry, Order, OrderLine, OrderState, OrderSync, Payment

AT = "2026-01-01T12:00:00.000Z"


def order(
    uuid: str, state: OrderState, payments: list[str], history: list[tuple[str, str, str]]
) -> Order:
    """Order 7, one grill line of 11.50, with these payments and this history."""
    line = OrderLine(1, 1, "Burger", "1", "11.50", "0", [], "0.00", "11.50", "11.50", "grill", "")
    return Order(
        id=7,
        uuid=uuid,
        name="s-0001-0007",
        number=7,
        session_id=1,
        state=state,
        note="",
        lines=[line],
        amount_untaxed="11.50",
        amount_tax="0.00",
        amount_total="11.50",
        amount_paid=payments[0] if payments else "0.00",
        change="0.00",
        payments=[Payment(n, 1, "payment", a, "", AT) for n, a in enumerate(payments, 1)],
        state_history=[
            HistoryEntry(f or None, t, e, AT, None, None)  # type: ignore[arg-type]
            for f, t, e in history
        ],
        kitchen_status="queued",
        sync=OrderSync("local", None, None),
        created_at=AT,
        updated_at=AT,
    )


PAID_HISTORY = [("", "draft", "create"), ("draft", "validated", "validate"),
                ("validated", "paid", "pay")]  # fmt: skip


def paid_receipt(uuid: str = "u1") -> Receipt:
    return Receipt(uuid=uuid, id=7, amount_total="11.50", acked=["create", "validate", "pay"])


def test_a_consistent_paid_order_passes() -> None:
    ledger = Ledger()
    check_orders(ledger, [paid_receipt()], {"u1": order("u1", "paid", ["11.50"], PAID_HISTORY)})
    assert ledger.ok, ledger


def test_an_acknowledged_order_missing_from_the_hub_is_lost() -> None:
    ledger = Ledger()
    check_orders(ledger, [paid_receipt()], {})
    assert ledger.lost == ["order u1 (id 7): acknowledged, not in the hub"]


def test_a_payment_taken_twice_is_duplicated() -> None:
    ledger = Ledger()
    history = [*PAID_HISTORY, ("paid", "paid", "pay")]
    check_orders(ledger, [paid_receipt()], {"u1": order("u1", "paid", ["11.50", "11.50"], history)})
    assert ledger.duplicated == ["order 7: paid 2 times"]
    assert not ledger.inconsistent


def test_an_acknowledged_payment_that_is_not_there_is_lost() -> None:
    ledger = Ledger()
    history = PAID_HISTORY[:2]
    check_orders(ledger, [paid_receipt()], {"u1": order("u1", "validated", [], history)})
    assert "order 7: pay acknowledged, not in its history" in ledger.lost
    assert "order 7: payment acknowledged, none recorded" in ledger.lost


def test_a_history_that_does_not_chain_is_inconsistent() -> None:
    ledger = Ledger()
    history = [("", "draft", "create"), ("validated", "paid", "pay")]
    receipt = Receipt(uuid="u1", id=7, amount_total="11.50", acked=["create", "pay"])
    check_orders(ledger, [receipt], {"u1": order("u1", "paid", ["11.50"], history)})
    assert ledger.inconsistent == ["order 7: history does not chain to paid"]


def ticket(reprint: bool = False) -> Printed:
    return Printed(order="s-0001-0007", station="grill", kind="new", reprint=reprint, backup=False)


def test_tickets_once_plus_marked_reprints_pass_and_an_unmarked_second_copy_fails() -> None:
    jobs = [("s-0001-0007", "grill", "new", "acked")]
    ledger = Ledger()
    check_tickets(ledger, jobs, {"grill": [ticket(), ticket(reprint=True)]})
    assert ledger.ok, ledger
    ledger = Ledger()
    check_tickets(ledger, jobs, {"grill": [ticket(), ticket()]})
    assert ledger.duplicated == ["ticket ('s-0001-0007', 'grill', 'new'): printed 2 times unmarked"]


def test_an_acked_ticket_never_printed_and_a_job_left_pending_are_lost() -> None:
    ledger = Ledger()
    jobs = [("s-0001-0007", "grill", "new", "acked"), ("s-0001-0008", "bar", "new", "sent")]
    check_tickets(ledger, jobs, {"grill": []})
    assert ledger.lost == [
        "ticket ('s-0001-0007', 'grill', 'new'): acked, never printed",
        "ticket ('s-0001-0008', 'bar', 'new'): still sent at the end",
    ]


def test_a_paid_order_without_its_stations_ticket_is_lost() -> None:
    ledger = Ledger()
    orders = {"u1": order("u1", "paid", ["11.50"], PAID_HISTORY)}
    check_kitchen_coverage(ledger, orders, [])
    assert ledger.lost == ["order 7: paid, no grill ticket"]
