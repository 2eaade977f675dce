"""KDS bumps move orders through the state machine, per station, and keep the ready board."""

from __future__ import annotations

from collections.abc import Callable

from hub.orders.models import Order
from tests.support.kitchen import BAR, GRILL, Kitchen, wait_until
from tests.support.mqtt_client import Mqtt


def _kds(kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]) -> Mqtt:
    """A KDS that also watches the board and the error topics; returns once the bridge is up."""
    kds = mqtt_client()
    kds.subscribe(f"edgehub/{kitchen.store}/orders/ready")
    kds.subscribe(f"edgehub/{kitchen.store}/kitchen/+/errors")
    kitchen.bridge()
    _, board = kds.next("/orders/ready")  # published once connected: the bridge hears us now
    assert board["ready"] == []
    return kds


def bump(kitchen: Kitchen, kds: Mqtt, station: str, order: Order, action: str) -> None:
    topic = f"edgehub/{kitchen.store}/kitchen/{station}/bump"
    kds.publish(topic, {"order_uuid": order.uuid, "action": action})


def test_bumps_drive_preparing_then_ready_and_the_board(
    kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]
) -> None:
    """The order is ready only when grill and bar both bumped; then the pickup board shows it."""
    kds = _kds(kitchen, mqtt_client)
    order = kitchen.paid_order((GRILL, "1"), (BAR, "1"))

    bump(kitchen, kds, "grill", order, "start")
    wait_until(lambda: kitchen.order_state(order.id)[0] == "preparing", what="preparing")
    bump(kitchen, kds, "grill", order, "ready")
    wait_until(lambda: kitchen.query("SELECT station FROM kitchen_ready") == [("grill",)])
    assert kitchen.order_state(order.id) == ("preparing", "preparing")
    bump(kitchen, kds, "bar", order, "ready")

    _, board = kds.next("/orders/ready")
    assert board["ready"] == [order.number]
    assert kitchen.order_state(order.id) == ("ready", "ready")
    (ready,) = kitchen.events("kitchen.order_ready")
    assert ready["uuid"] == order.uuid and ready["stations"] == ["bar", "grill"]
    history = kitchen.query(
        "SELECT event, by_user FROM order_history WHERE order_id = ? ORDER BY id", order.id
    )
    assert history[-2:] == [("start", None), ("ready", None)]

    kitchen.fire(order.id, "complete")  # handed over at the pass
    _, board = kds.next("/orders/ready")
    assert board["ready"] == []


def test_recall_sends_the_order_back_to_preparing(
    kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]
) -> None:
    """A recalled order leaves the board and must be bumped ready again by that station."""
    kds = _kds(kitchen, mqtt_client)
    order = kitchen.paid_order((GRILL, "1"))
    bump(kitchen, kds, "grill", order, "ready")  # from paid: started, then ready
    _, board = kds.next("/orders/ready")
    assert board["ready"] == [order.number]

    bump(kitchen, kds, "grill", order, "recall")
    _, board = kds.next("/orders/ready")
    assert board["ready"] == []
    assert kitchen.order_state(order.id)[0] == "preparing"
    bump(kitchen, kds, "grill", order, "ready")
    _, board = kds.next("/orders/ready")
    assert board["ready"] == [order.number]


def test_illegal_bump_is_answered_and_never_applied(
    kitchen: Kitchen, mqtt_client: Callable[..., Mqtt]
) -> None:
    """A KDS out of step learns why on its errors topic; the order and the log stay as they were."""
    kds = _kds(kitchen, mqtt_client)
    order = kitchen.paid_order((GRILL, "1"))
    wait_until(lambda: kitchen.order_state(order.id) == ("paid", "sent"), what="ticket sent")
    seq_before = kitchen.query("SELECT MAX(seq) FROM events")[0][0]

    bump(kitchen, kds, "grill", order, "recall")  # nothing is ready
    topic, error = kds.next("/errors")
    assert topic.endswith("/kitchen/grill/errors")
    assert (error["order_uuid"], error["action"], error["error"]) == (
        order.uuid,
        "recall",
        "invalid_transition",
    )
    assert error["detail"]["state"] == "paid" and "start" in error["detail"]["allowed"]

    bump(kitchen, kds, "bar", order, "start")  # the bar has nothing on this order
    _, error = kds.next("/errors")
    assert error["error"] == "station_not_in_order"

    kds.publish(
        f"edgehub/{kitchen.store}/kitchen/grill/bump",
        {"order_uuid": "00000000-0000-4000-8000-000000000000", "action": "start"},
    )
    _, error = kds.next("/errors")
    assert error["error"] == "unknown_order"
    assert kitchen.order_state(order.id)[0] == "paid"
    assert kitchen.query("SELECT MAX(seq) FROM events")[0][0] == seq_before
