"""A hub order → the payload Odoo's Point of Sale takes. Pure functions, no I/O.

Two shapes, chosen by the Odoo major version:

* 16/17 ``pos.order.create_from_ui``: ``{"id", "data": {...}, "to_invoice"}``,
  payments in ``statement_ids``, the session in ``pos_session_id``, the order
  date as ``creation_date`` (16) or ``date_order`` (17). ``server_id: False``
  is always present: without that key Odoo 16 does not dedupe a resend.
* 18+ ``pos.order.sync_from_ui``: flat dicts of ``pos.order`` field names
  keyed by ``uuid``, payments in ``payment_ids``. Every key goes straight into
  ``create``, so nothing may be added that is not a field. No ``state``: 18
  creates the order with the state the payload claims and keeps it even when
  ``action_pos_order_paid`` then refuses the payments (a "paid" order with
  its books wrong). Without one the order starts as a draft, Odoo still
  finalizes it (only ``state: "draft"`` holds that back), and it is ``paid``
  only if Odoo made it so.

Both carry the same stable reference (``order_reference``) as ``name``, and
18+ also as ``pos_reference`` (19 ignores ``name`` and would make up its own
reference). It reads ``Order 00003-000-0112 demo-0003-0112 <hub uuid>``:

* 14 digits and dashes first, in Odoo's own ``SSSSS-LLL-NNNN`` shape (hub
  session, 000, order number): 16/17's ``_export_for_ui`` takes
  ``re.search('([0-9-]){14}', pos_reference).group(0)`` and fails on a
  reference without such a run, which breaks head office's POS screens;
* the hub's order name, the number printed on the customer's receipt, so
  head office finds the order by searching for it;
* the hub uuid last: unique across every store syncing to the same Odoo (16/17
  dedupe on the reference), and what ``find_orders`` maps an Odoo order back
  to the hub by on every version (``uuid_from_reference``).

Every payload carries an ``access_token`` (derived from the uuid, so a resend
carries the same): on 18+, resending an order Odoo holds as draft runs
``del order['access_token']`` and fails without one.

Money and quantities are decimal strings on the hub and floats in Odoo's JSON.
This module is the one place a float is made, from a ``Decimal``, at the last
moment. Odoo's ``amount_paid`` is what was kept (tendered minus change) and
``amount_return`` is the change, so both are computed here from the hub's
payments and ``change`` rather than trusted from the order.

A refund is an order with negative quantities and amounts whose lines point
at the refunded Odoo lines through ``refunded_orderline_id`` when the id map
knows them (``refund_order`` builds one from a paid hub order).
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from cloud_sync.errors import Unmapped

REFERENCE_PREFIX = "Order "
_TOKEN_NAMESPACE = uuidlib.UUID("0c7d3e91-52a4-4f0b-8d6e-3b9a1f27c845")

# Order-line uuids are derived from the order's uuid so a resend carries the
# same line uuids (Odoo 18+ has a unique constraint on pos.order.line.uuid).
_LINE_NAMESPACE = uuidlib.UUID("5b0f3c2e-7d1a-4e8b-9c61-0e2f4a6d8b13")

Money = str | int | Decimal


@dataclass(frozen=True, slots=True)
class RemoteRefs:
    """Odoo ids for the hub ids an order mentions, from the sync agent's id map.

    ``product_taxes`` gives a product's hub tax ids for lines that do not list
    their own ``tax_ids``; ``order_lines`` maps hub order-line ids to the
    ``pos.order.line`` ids Odoo gave them, for refunds. ``pricelist_id`` is
    required by Odoo 16, optional after.
    """

    user_id: int
    sessions: Mapping[int, int]
    products: Mapping[int, int]
    payment_methods: Mapping[int, int]
    taxes: Mapping[int, int] = field(default_factory=dict)
    product_taxes: Mapping[int, Sequence[int]] = field(default_factory=dict)
    order_lines: Mapping[int, int] = field(default_factory=dict)
    pricelist_id: int | None = None


def order_reference(order: Mapping[str, Any]) -> str:
    """The ``pos_reference`` Odoo keeps for the hub order ``order`` (see the module doc)."""
    session = int(order.get("session_id") or 0) % 100_000
    number = _sequence_number(order) % 10_000
    name = str(order.get("name") or "").strip()
    label = f" {name}" if name else ""
    return f"{REFERENCE_PREFIX}{session:05d}-000-{number:04d}{label} {order['uuid']}"


def legacy_reference(order_uuid: str) -> str:
    """The reference of orders pushed before ``order_reference`` named the receipt."""
    return f"{REFERENCE_PREFIX}{order_uuid}"


def uuid_from_reference(reference: str) -> str | None:
    """The hub uuid at the end of a reference made by ``order_reference``; None for others."""
    if not reference or not reference.startswith(REFERENCE_PREFIX):
        return None
    last = reference.rsplit(" ", 1)[-1]
    # Odoo's own POS references end in digits and dashes ("Order 00001-001-0001").
    return None if not last or set(last) <= set("0123456789-") else last


def access_token(order_uuid: str) -> str:
    """The ``access_token`` every payload of ``order_uuid`` carries, the same on each resend."""
    return str(uuidlib.uuid5(_TOKEN_NAMESPACE, order_uuid))


def payload_uuid(payload: Mapping[str, Any]) -> str:
    """The hub uuid a payload of either shape was built from."""
    if "data" in payload:
        found = uuid_from_reference(payload["data"]["name"])
        if found is None:
            raise ValueError(f"not a payload built by order_payload: {payload['data']['name']!r}")
        return found
    return str(payload["uuid"])


def to_float(value: Money) -> float:
    """A decimal amount as the float Odoo's JSON wants. Floats are refused on the way in."""
    if isinstance(value, float | bool):
        raise TypeError(f"money must be a decimal string or Decimal, not {value!r}")
    try:
        return float(Decimal(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc


def odoo_datetime(value: str) -> str:
    """A hub ISO 8601 timestamp as Odoo's server format, UTC: ``YYYY-MM-DD HH:MM:SS``."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def order_document(
    order: Mapping[str, Any], refs: RemoteRefs, version: int
) -> CreateFromUi | SyncFromUi:
    """The element of ``create_from_ui``'s (16/17) or ``sync_from_ui``'s (18+) list, typed."""
    if version < 16:
        raise ValueError(f"Odoo {version} is not supported")
    return _create_from_ui(order, refs, version) if version <= 17 else _sync_from_ui(order, refs)


def order_payload(order: Mapping[str, Any], refs: RemoteRefs, version: int) -> dict[str, Any]:
    """``order_document`` as the JSON object sent to Odoo."""
    payload: dict[str, Any] = msgspec.to_builtins(order_document(order, refs, version))
    return payload


def refund_order(
    order: Mapping[str, Any], *, uuid: str, created_at: str, session_id: int | None = None
) -> dict[str, Any]:
    """A hub-shaped order refunding all of paid ``order``: every quantity and amount negated.

    The money goes back by the methods it came in by, net of the change given
    (change is taken off the last payments first, which is where a till gives
    it from). Lines keep ``refunded_line_id`` so the payload can point Odoo at
    the original lines.
    """
    change = Decimal(order.get("change") or 0)
    kept: list[tuple[Any, Decimal]] = []
    for payment in reversed(order.get("payments") or []):
        amount = Decimal(payment["amount"])
        taken = min(change, amount)
        change -= taken
        kept.append((payment["method_id"], amount - taken))
    payments = [
        {"method_id": method, "amount": _neg(amount)} for method, amount in reversed(kept) if amount
    ]
    lines = [
        {
            **{k: v for k, v in line.items() if k != "id"},
            "qty": _neg(line["qty"]),
            "tax_amount": _neg(line.get("tax_amount") or 0),
            "subtotal": _neg(line["subtotal"]),
            "subtotal_incl": _neg(line["subtotal_incl"]),
            "refunded_line_id": line.get("id"),
        }
        for line in order["lines"]
    ]
    return {
        "uuid": uuid,
        "name": f"{order.get('name') or order['uuid']} REFUND",
        "number": order.get("number"),
        "session_id": session_id if session_id is not None else order["session_id"],
        "state": "paid",
        "refund_of": order["uuid"],
        "lines": lines,
        "amount_untaxed": _neg(order.get("amount_untaxed") or 0),
        "amount_tax": _neg(order["amount_tax"]),
        "amount_total": _neg(order["amount_total"]),
        "amount_paid": _neg(order["amount_total"]),
        "change": "0",
        "payments": payments,
        "created_at": created_at,
    }


# -- the two shapes ------------------------------------------------------------------
#
# Built as Structs, so each key Odoo reads is declared once with its type, and
# sent as the plain JSON they turn into (``msgspec.to_builtins``): the field
# order below is the key order on the wire. A field left UNSET is not sent
# at all; ``False`` is Odoo's "none" for a many2one and is sent as such.


class LineVals(msgspec.Struct):
    """A ``pos.order.line`` as both calls create it."""

    product_id: int
    full_product_name: str
    qty: float
    price_unit: float
    discount: float
    price_subtotal: float
    price_subtotal_incl: float
    customer_note: str
    tax_ids: list[list[int | list[int]]] | UnsetType = UNSET  # 16/17: else the product's
    uuid: str | UnsetType = UNSET  # 17+: stable across resends
    refunded_orderline_id: int | UnsetType = UNSET


class PaymentVals(msgspec.Struct):
    """A ``pos.payment``: 16/17 date it in ``name``, 18+ in ``payment_date``."""

    payment_method_id: int
    amount: float
    name: str | UnsetType = UNSET
    payment_date: str | UnsetType = UNSET


# x2many commands: ``[0, 0, vals]`` creates, ``[5, 0, 0]`` clears, ``[6, 0, ids]`` sets.
LineCommand = list[int | LineVals]
PaymentCommand = list[int | PaymentVals]
_Vals = TypeVar("_Vals", LineVals, PaymentVals)


def _create(vals: _Vals) -> list[int | _Vals]:
    return [0, 0, vals]


class UiOrder(msgspec.Struct):
    """The ``data`` of an order for 16/17's ``create_from_ui``."""

    name: str
    uid: str
    sequence_number: int
    pos_session_id: int
    user_id: int
    partner_id: bool
    pricelist_id: int | bool
    fiscal_position_id: bool
    amount_total: float
    amount_tax: float
    amount_paid: float
    amount_return: float
    lines: list[LineCommand]
    statement_ids: list[PaymentCommand]
    server_id: bool  # False, always: without the key Odoo 16 does not dedupe a resend
    access_token: str
    to_invoice: bool
    is_tipped: bool
    tip_amount: int
    creation_date: str | UnsetType = UNSET  # 16
    to_ship: bool | UnsetType = UNSET  # 16
    date_order: str | UnsetType = UNSET  # 17
    shipping_date: bool | UnsetType = UNSET  # 17


class CreateFromUi(msgspec.Struct):
    """One element of 16/17's ``pos.order.create_from_ui`` list."""

    id: str
    data: UiOrder
    to_invoice: bool


class SyncFromUi(msgspec.Struct):
    """One element of 18+'s ``pos.order.sync_from_ui`` list: ``pos.order`` fields only."""

    uuid: str
    name: str
    pos_reference: str
    access_token: str
    sequence_number: int
    session_id: int
    user_id: int
    partner_id: bool
    fiscal_position_id: bool
    date_order: str
    to_invoice: bool
    amount_total: float
    amount_tax: float
    amount_paid: float
    amount_return: float
    lines: list[LineCommand]
    payment_ids: list[PaymentCommand]
    pricelist_id: int | UnsetType = UNSET


@dataclass(frozen=True, slots=True)
class _Amounts:
    total: float
    tax: float
    paid: float
    returned: float


def _create_from_ui(order: Mapping[str, Any], refs: RemoteRefs, version: int) -> CreateFromUi:
    order_uuid = str(order["uuid"])
    created = odoo_datetime(order["created_at"])
    amounts = _amounts(order)
    if version <= 16 and refs.pricelist_id is None:
        raise Unmapped("pricelist", None)
    data = UiOrder(
        name=order_reference(order),
        uid=order_uuid,
        sequence_number=_sequence_number(order),
        pos_session_id=_lookup(refs.sessions, order["session_id"], "session"),
        user_id=refs.user_id,
        partner_id=False,
        pricelist_id=refs.pricelist_id or False,
        fiscal_position_id=False,
        amount_total=amounts.total,
        amount_tax=amounts.tax,
        amount_paid=amounts.paid,
        amount_return=amounts.returned,
        lines=[
            _create(_line(order_uuid, i, line, refs, version))
            for i, line in enumerate(order["lines"])
        ],
        statement_ids=[
            _create(_payment(p, refs, name=_payment_date(p, order)))
            for p in order.get("payments") or []
        ],
        server_id=False,
        access_token=access_token(order_uuid),
        to_invoice=False,
        is_tipped=False,
        tip_amount=0,
    )
    if version <= 16:
        data.creation_date = created
        data.to_ship = False
    else:
        data.date_order = created
        data.shipping_date = False
    return CreateFromUi(id=order_uuid, data=data, to_invoice=False)


def _sync_from_ui(order: Mapping[str, Any], refs: RemoteRefs) -> SyncFromUi:
    order_uuid = str(order["uuid"])
    reference = order_reference(order)
    amounts = _amounts(order)
    return SyncFromUi(
        uuid=order_uuid,
        name=reference,
        pos_reference=reference,
        access_token=access_token(order_uuid),
        sequence_number=_sequence_number(order),
        session_id=_lookup(refs.sessions, order["session_id"], "session"),
        user_id=refs.user_id,
        partner_id=False,
        fiscal_position_id=False,
        date_order=odoo_datetime(order["created_at"]),
        to_invoice=False,
        amount_total=amounts.total,
        amount_tax=amounts.tax,
        amount_paid=amounts.paid,
        amount_return=amounts.returned,
        # Clear first: when Odoo holds the order as a draft (an earlier attempt),
        # _process_order writes these commands onto it, and created lines and
        # payments would add to the draft's instead of replacing them.
        lines=[
            [5, 0, 0],
            *(
                _create(_line(order_uuid, i, line, refs, 18))
                for i, line in enumerate(order["lines"])
            ),
        ],
        payment_ids=[
            [5, 0, 0],
            *(
                _create(_payment(p, refs, payment_date=_payment_date(p, order)))
                for p in order.get("payments") or []
            ),
        ],
        pricelist_id=refs.pricelist_id if refs.pricelist_id is not None else UNSET,
    )


def _amounts(order: Mapping[str, Any]) -> _Amounts:
    tendered = sum((Decimal(p["amount"]) for p in order.get("payments") or []), Decimal(0))
    change = Decimal(order.get("change") or 0)
    if change < 0:
        raise ValueError(f"order {order.get('uuid')} has negative change {change}")
    return _Amounts(
        total=to_float(order["amount_total"]),
        tax=to_float(order["amount_tax"]),
        paid=to_float(tendered - change),
        returned=to_float(change),
    )


def _line(
    order_uuid: str, index: int, line: Mapping[str, Any], refs: RemoteRefs, version: int
) -> LineVals:
    vals = LineVals(
        product_id=_lookup(refs.products, line["product_id"], "product"),
        full_product_name=line.get("name") or "",
        qty=to_float(line["qty"]),
        price_unit=to_float(line["price_unit"]),
        discount=to_float(line.get("discount") or 0),
        price_subtotal=to_float(line["subtotal"]),
        price_subtotal_incl=to_float(line["subtotal_incl"]),
        customer_note=line.get("note") or "",
    )
    taxes = _tax_ids(line, refs, version)
    if taxes is not None:
        vals.tax_ids = [[6, 0, taxes]]
    if version >= 17:
        key = line["id"] if line.get("id") is not None else f"#{index}"
        vals.uuid = str(uuidlib.uuid5(_LINE_NAMESPACE, f"{order_uuid}/{key}"))
    refunded = line.get("refunded_line_id")
    if refunded is not None and refunded in refs.order_lines:
        vals.refunded_orderline_id = refs.order_lines[refunded]
    return vals


def _tax_ids(line: Mapping[str, Any], refs: RemoteRefs, version: int) -> list[int] | None:
    hub_taxes = line.get("tax_ids")
    if hub_taxes is None:
        hub_taxes = refs.product_taxes.get(line["product_id"])
    if hub_taxes is None:
        if version <= 17:
            return None  # create_from_ui applies the product's own taxes
        raise Unmapped("taxes of product", line["product_id"])
    return [_lookup(refs.taxes, tax, "tax") for tax in hub_taxes]


def _payment(
    payment: Mapping[str, Any],
    refs: RemoteRefs,
    *,
    name: str | UnsetType = UNSET,
    payment_date: str | UnsetType = UNSET,
) -> PaymentVals:
    return PaymentVals(
        payment_method_id=_lookup(refs.payment_methods, payment["method_id"], "payment method"),
        amount=to_float(payment["amount"]),
        name=name,
        payment_date=payment_date,
    )


def _payment_date(payment: Mapping[str, Any], order: Mapping[str, Any]) -> str:
    return odoo_datetime(payment.get("created_at") or order["created_at"])


def _sequence_number(order: Mapping[str, Any]) -> int:
    number = order.get("number")
    if isinstance(number, int):
        return number
    digits = "".join(ch for ch in str(number or "") if ch.isdigit())
    return int(digits) if digits else 0


def _lookup(mapping: Mapping[int, int], hub_id: Any, kind: str) -> int:
    try:
        return mapping[hub_id]
    except KeyError:
        raise Unmapped(kind, hub_id) from None


def _neg(value: Money) -> str:
    # "+ 0" turns a negated zero ("-0.00") back into "0.00".
    return str(-Decimal(value) + 0)
