"""The outbox on its own: no Odoo needed to check what gets queued, and when."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from cloud_sync import outbox
from hub import events, sync_outbox
from hub.db.connection import immediate
from hub.orders import commands
from hub.settings import Settings
from tests.cloud_sync.hub_side import Till, connect
from tests.conftest import demo_database, make_settings

BURGER, ESPRESSO, GIFT_CARD = 1, 10, 32  # demo store products; the gift card skips the kitchen


def tail_all(settings: Settings) -> outbox.Tail:
    with connect(settings) as db, immediate(db):
        return outbox.tail(db)


def test_tail_queues_each_paid_order_once_and_moves_the_cursor_with_it(tmp_path: Path) -> None:
    """Every later transition of a paid order is another event; Odoo must still get it once."""
    settings = make_settings(demo_database(tmp_path / "edgehub.db"))
    till = Till(settings)
    sold = till.sell(3, {BURGER: "1", ESPRESSO: "2"}, complete=False)
    till.sell(2, {GIFT_CARD: "1"})  # paid, then done: two events each
    till.cancel(sold[0].id)
    first = tail_all(settings)
    assert (first.enqueued, first.caught_up) == (6, True)
    assert tail_all(settings) == outbox.Tail(0, 0, True)
    with connect(settings) as db:
        rows = db.execute("SELECT kind, order_id, uuid FROM sync_outbox ORDER BY id").fetchall()
        assert events.get_cursor(db, sync_outbox.CONSUMER) == events.head(db)
        states = db.execute("SELECT DISTINCT sync_state FROM orders").fetchall()
    assert [r[0] for r in rows].count("refund") == 1
    (refund,) = [r for r in rows if r[0] == "refund"]
    assert refund[1:] == (sold[0].id, outbox.refund_uuid(sold[0].uuid))
    assert states == [("pending",)]


def test_orders_never_paid_are_not_queued(tmp_path: Path) -> None:
    """A draft or an order cancelled before payment owes head office nothing."""
    settings = make_settings(demo_database(tmp_path / "edgehub.db"))
    till = Till(settings)
    with connect(settings) as db, immediate(db):
        order, _ = commands.create_order(
            db,
            till.rules,
            till.actor,
            uuid="a6c1c0de-0000-4000-8000-000000000001",
            session_id=till.session_id,
            lines=[commands.LineInput(product_id=BURGER, qty=Decimal(1))],
            note="",
            fingerprint="test",
        )
        commands.transition(db, till.rules, till.actor, order.id, "cancel")
    tailed = tail_all(settings)
    assert tailed.enqueued == 0 and tailed.consumed > 0


def test_a_refund_waits_until_its_sale_is_at_odoo(tmp_path: Path) -> None:
    """The refund points at the sale's lines at Odoo, so it cannot go first."""
    settings = make_settings(demo_database(tmp_path / "edgehub.db"))
    till = Till(settings)
    (sold,) = till.sell(1, {BURGER: "1"}, complete=False)
    till.cancel(sold.id)
    tail_all(settings)
    with connect(settings) as db, immediate(db):
        (sale,) = outbox.next_batch(db, 10)
        assert sale.kind == "sale"
        outbox.record(db, outbox.Outcome({sale.id: 41}, {}, set()))
        (refund,) = outbox.next_batch(db, 10)
    assert refund.kind == "refund"
