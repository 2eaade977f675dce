"""Request bodies of the REST API, as msgspec structs.

The constraints here are the first line of defence: a body that breaks them
is answered 422 with the field that failed, before any service code runs.
Decimal fields travel as strings (API.md: money and quantities are never
floats) and are parsed strictly when converted to service inputs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec
from litestar.params import PathParameter, QueryParameter

from hub.errors import ValidationFailed
from hub.orders.commands import LineInput, PaymentInput
from hub.orders.money import Money, parse_decimal

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
QTY_PATTERN = r"^[0-9]{1,5}(\.[0-9]{1,3})?$"
MONEY_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,4})?$"
PERCENT_PATTERN = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"  # 0 to 100
MAX_LINES = 200
MAX_PAYMENTS = 20

MAX_ID = 2**53
"""The largest id the API takes: JavaScript's safe integers, well inside what SQLite can bind
(a path or query past 64 bits would otherwise reach the database and fail there)."""

Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
"""An id in a path; out of range answers 422 naming it, like a body's."""
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
Text = Annotated[str, msgspec.Meta(max_length=500)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Qty = Annotated[str, msgspec.Meta(pattern=QTY_PATTERN, examples=["2", "0.5"])]
Amount = Annotated[str, msgspec.Meta(pattern=MONEY_PATTERN, examples=["4.50"])]
Percent = Annotated[str, msgspec.Meta(pattern=PERCENT_PATTERN, examples=["10"])]


class Credentials(msgspec.Struct, forbid_unknown_fields=True):
    """A PIN or a password, e.g. a manager approving an override on a till."""

    login: Name
    pin: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    password: Annotated[str, msgspec.Meta(max_length=256)] | None = None


class LineBody(msgspec.Struct, forbid_unknown_fields=True):
    product_id: Id
    qty: Qty
    note: Text = ""
    price_unit: Amount | None = None
    discount: Percent | None = None


class CreateOrderBody(msgspec.Struct, forbid_unknown_fields=True):
    uuid: Annotated[str, msgspec.Meta(pattern=UUID_PATTERN)]
    session_id: Id
    lines: Annotated[list[LineBody], msgspec.Meta(max_length=MAX_LINES)]
    note: Text = ""
    approval: Credentials | None = None


class PatchOrderBody(msgspec.Struct, forbid_unknown_fields=True):
    lines: Annotated[list[LineBody], msgspec.Meta(max_length=MAX_LINES)]
    note: Text | None = None
    approval: Credentials | None = None


class PaymentBody(msgspec.Struct, forbid_unknown_fields=True):
    method_id: Id
    amount: Amount
    reference: Annotated[str, msgspec.Meta(max_length=128)] = ""


class TransitionBody(msgspec.Struct, forbid_unknown_fields=True):
    """Body of a transition: ``payments`` for pay, ``reason`` for cancel, else empty."""

    payments: Annotated[list[PaymentBody], msgspec.Meta(max_length=MAX_PAYMENTS)] | None = None
    reason: Text | None = None


class OpenSessionBody(msgspec.Struct, forbid_unknown_fields=True):
    terminal: Name
    opening_cash: Amount = "0"


class CloseSessionBody(msgspec.Struct, forbid_unknown_fields=True):
    closing_cash: Amount
    # Cancel the session's unpaid orders (draft, validated) in the same transaction.
    cancel_unpaid: bool = False


class TokenBody(Credentials, forbid_unknown_fields=True):
    """A login's PIN or password, exchanged for a bearer token."""


def _field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", {"fields": {field: message}})


def to_line_inputs(money: Money, lines: list[LineBody]) -> list[LineInput]:
    out = []
    for i, line in enumerate(lines):
        qty = parse_decimal(line.qty)
        if qty <= 0:
            raise _field_error(f"lines[{i}].qty", "must be greater than 0")
        discount = parse_decimal(line.discount) if line.discount is not None else Decimal(0)
        if discount > 100:
            raise _field_error(f"lines[{i}].discount", "must be between 0 and 100")
        try:
            price = money.parse(line.price_unit) if line.price_unit is not None else None
        except ValueError as exc:
            raise _field_error(f"lines[{i}].price_unit", str(exc)) from exc
        out.append(
            LineInput(
                product_id=line.product_id,
                qty=qty,
                note=line.note,
                price_unit=price,
                discount=discount,
            )
        )
    return out


def to_payment_inputs(money: Money, payments: list[PaymentBody]) -> list[PaymentInput]:
    out = []
    for i, p in enumerate(payments):
        try:
            amount = money.parse(p.amount)
        except ValueError as exc:
            raise _field_error(f"payments[{i}].amount", str(exc)) from exc
        if amount <= 0:
            raise _field_error(f"payments[{i}].amount", "must be greater than 0")
        out.append(PaymentInput(method_id=p.method_id, amount=amount, reference=p.reference))
    return out


def parse_amount(money: Money, field: str, text: str) -> int:
    try:
        return money.parse(text)
    except ValueError as exc:
        raise _field_error(field, str(exc)) from exc
