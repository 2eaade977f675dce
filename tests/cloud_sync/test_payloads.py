"""Hub order → Odoo payload, per version, without a server: the shapes and the money."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import msgspec
import pytest

from cloud_sync.errors import Unmapped
from cloud_sync.payloads import (
    CreateFromUi,
    RemoteRefs,
    odoo_datetime,
    order_document,
    order_payload,
    order_reference,
    payload_uuid,
    refund_order,
    to_float,
    uuid_from_reference,
)
from tests.cloud_sync.shop import CARD, CASH, HUB_SESSION, INCL10, VAT15, hub_order

REFS = RemoteRefs(
    user_id=6,
    sessions={HUB_SESSION: 40},
    products={101: 501, 102: 502, 103: 503, 104: 504},
    payment_methods={CASH: 71, CARD: 72},
    taxes={VAT15: 81, INCL10: 82},
    product_taxes={101: [VAT15], 102: [VAT15], 103: [INCL10], 104: [INCL10]},
    pricelist_id=3,
)


def meal() -> dict:
    return hub_order(9, {"BURGER": 1, "COLA": 2}, tendered={CASH: "20.00"})


def test_money_becomes_float_only_from_decimal_strings() -> None:
    """A float reaching the boundary means money was mishandled upstream: refuse it."""
    assert to_float("4.50") == 4.5
    assert to_float(Decimal("-0.10")) == -0.1
    with pytest.raises(TypeError):
        to_float(4.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        to_float("four")


def test_amount_paid_is_tendered_minus_change_and_change_is_amount_return() -> None:
    """Odoo recomputes amount_paid from payments and adds the change itself."""
    order = meal()
    for version in (16, 18):
        payload = order_payload(order, REFS, version)
        amounts = payload.get("data", payload)
        assert amounts["amount_total"] == 16.5
        assert amounts["amount_paid"] == 16.5
        assert amounts["amount_return"] == 3.5
    with pytest.raises(ValueError):
        order_payload({**order, "change": "-1.00"}, REFS, 18)


def test_create_from_ui_payload_for_16_has_the_keys_odoo_16_reads() -> None:
    """16 reads creation_date and pricelist_id by index and dedupes only with server_id."""
    order = meal()
    payload = order_payload(order, REFS, 16)
    assert payload["id"] == order["uuid"] and payload["to_invoice"] is False
    data = payload["data"]
    assert data["name"] == order_reference(order)
    assert data["server_id"] is False
    assert data["pos_session_id"] == 40 and data["pricelist_id"] == 3
    assert data["creation_date"] == "2024-05-02 10:15:30"
    assert "date_order" not in data
    assert data["statement_ids"] == [
        [0, 0, {"payment_method_id": 71, "amount": 20.0, "name": "2024-05-02 10:15:30"}]
    ]
    burger = data["lines"][0][2]
    assert (burger["product_id"], burger["qty"], burger["tax_ids"]) == (501, 1.0, [[6, 0, [81]]])
    assert "uuid" not in burger
    with pytest.raises(Unmapped):
        order_payload(order, replace(REFS, pricelist_id=None), 16)


def test_create_from_ui_payload_for_17_uses_date_order_and_stable_line_uuids() -> None:
    """17 renamed the date key; line uuids must not change between resends."""
    order = meal()
    first, second = order_payload(order, REFS, 17), order_payload(order, REFS, 17)
    assert first["data"]["date_order"] == "2024-05-02 10:15:30"
    assert "creation_date" not in first["data"]
    uuids = [line[2]["uuid"] for line in first["data"]["lines"]]
    assert len(set(uuids)) == 2
    assert uuids == [line[2]["uuid"] for line in second["data"]["lines"]]


def test_sync_from_ui_payload_is_flat_paid_and_keyed_by_uuid() -> None:
    """18+ create the order from these keys as they are; each must be a pos.order field."""
    order = meal()
    payload = order_payload(order, REFS, 18)
    # No state: Odoo 18 would keep a claimed "paid" even if it refused the payments.
    assert payload["uuid"] == order["uuid"] and "state" not in payload
    assert payload["session_id"] == 40
    assert set(payload) <= {
        "uuid", "name", "sequence_number", "session_id", "user_id", "partner_id",
        "fiscal_position_id", "pricelist_id", "date_order", "state", "to_invoice",
        "amount_total", "amount_tax", "amount_paid", "amount_return", "lines", "payment_ids",
        "pos_reference", "access_token",
    }  # fmt: skip
    # Cleared first, so a resend onto a draft Odoo holds replaces its lines and payments.
    assert payload["lines"][0] == payload["payment_ids"][0] == [5, 0, 0]
    assert payload["payment_ids"][1][2] == {
        "payment_method_id": 71,
        "amount": 20.0,
        "payment_date": "2024-05-02 10:15:30",
    }
    assert payload_uuid(payload) == order["uuid"] == payload_uuid(order_payload(order, REFS, 16))


def test_unknown_hub_ids_raise_unmapped_before_anything_is_sent() -> None:
    """An order for a product the catalogue pull has not mapped yet must wait, not fail at Odoo."""
    order = meal()
    refs = replace(REFS, products={101: 501})
    with pytest.raises(Unmapped) as caught:
        order_payload(order, refs, 18)
    assert (caught.value.kind, caught.value.hub_id) == ("product", 103)


def test_taxes_unknown_are_left_to_odoo_before_18_and_refused_after() -> None:
    """create_from_ui applies the product's taxes itself; sync_from_ui would book none."""
    refs = replace(REFS, product_taxes={})
    assert "tax_ids" not in order_payload(meal(), refs, 17)["data"]["lines"][0][2]
    with pytest.raises(Unmapped):
        order_payload(meal(), refs, 18)


def test_refund_negates_everything_and_points_at_the_original_lines() -> None:
    """A refund must cancel the sale in Odoo's books, net of the change given."""
    sale = meal()
    refund = refund_order(sale, uuid="r-1", created_at="2024-05-02T12:00:00+02:00")
    assert refund["amount_total"] == "-16.50" and refund["change"] == "0"
    assert refund["payments"] == [{"method_id": CASH, "amount": "-16.50"}]
    assert [line["qty"] for line in refund["lines"]] == ["-1", "-2"]
    refs = replace(REFS, order_lines={900: 7001, 901: 7002})
    payload = order_payload(refund, refs, 17)
    lines = [line[2] for line in payload["data"]["lines"]]
    assert [line["refunded_orderline_id"] for line in lines] == [7001, 7002]
    assert payload["data"]["date_order"] == "2024-05-02 10:00:00"
    assert payload["data"]["amount_paid"] == -16.5 and payload["data"]["amount_return"] == 0.0


def test_references_round_trip_to_the_hub_uuid() -> None:
    """find_orders maps Odoo's pos_reference back to the hub uuid on every version."""
    order = hub_order(1, {"BURGER": 1})
    assert uuid_from_reference(order_reference(order)) == order["uuid"]
    assert uuid_from_reference(f"Order {order['uuid']}") == order["uuid"]  # pushed before
    assert uuid_from_reference("Shop/0001") is None


def test_odoo_datetimes_are_utc_without_zone() -> None:
    """Odoo stores naive UTC; a local offset must be converted, not dropped."""
    assert odoo_datetime("2024-05-02T10:15:30.123Z") == "2024-05-02 10:15:30"
    assert odoo_datetime("2024-05-02T12:15:30+02:00") == "2024-05-02 10:15:30"


@pytest.mark.parametrize("version", [16, 17, 18])
def test_the_typed_document_is_the_payload_sent_key_for_key(version: int) -> None:
    """The Structs declare the wire shape: every set field is sent, in order, and nothing else."""
    order = meal()
    document = order_document(order, REFS, version)
    payload = order_payload(order, REFS, version)
    assert json.loads(msgspec.json.encode(document)) == payload
    sent = payload["data"] if version <= 17 else payload
    typed = document.data if isinstance(document, CreateFromUi) else document
    declared = [f for f in typed.__struct_fields__ if getattr(typed, f) is not msgspec.UNSET]
    assert list(sent) == declared
