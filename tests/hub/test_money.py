"""Tax and total arithmetic: the figures a receipt and head office must agree on."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.orders.money import Money, Tax, parse_decimal, qty_text

money = Money(2)
VAT10_INCL = Tax(id=1, rate=Decimal("10"), price_include=True)
SALES8 = Tax(id=2, rate=Decimal("8"), price_include=False)


def test_included_tax_keeps_the_shelf_price() -> None:
    """A 9.50 burger with 10% VAT included costs exactly 9.50 x qty."""
    amounts = money.line(950, Decimal(2), Decimal(0), [VAT10_INCL])
    assert amounts.subtotal_incl == 1900
    assert amounts.subtotal == 1727
    assert amounts.tax_amount == 173


def test_excluded_tax_is_added_on_top() -> None:
    """A 6.90 item with 8% sales tax excluded costs 7.45."""
    amounts = money.line(690, Decimal(1), Decimal(0), [SALES8])
    assert (amounts.subtotal, amounts.tax_amount, amounts.subtotal_incl) == (690, 55, 745)


def test_discount_applies_before_tax() -> None:
    """A 10% discount on an included-tax line lowers price and tax together."""
    amounts = money.line(1000, Decimal(1), Decimal(10), [VAT10_INCL])
    assert amounts.subtotal_incl == 900
    assert amounts.subtotal + amounts.tax_amount == 900


def test_fractional_quantity_rounds_half_up_once() -> None:
    """0.333 kg at 3.00 rounds once per line, half up."""
    amounts = money.line(300, Decimal("0.335"), Decimal(0), [])
    assert amounts.subtotal_incl == 101  # 100.5 -> 101


@pytest.mark.parametrize("text", ["1e3", "NaN", "Infinity", " 1", "1,5", "", "0x10", "1" * 40])
def test_parse_decimal_rejects_anything_but_plain_digits(text: str) -> None:
    """Exponents, NaN, padding and absurd lengths never reach the arithmetic."""
    with pytest.raises(ValueError):
        parse_decimal(text)


def test_money_parse_refuses_sub_cent_amounts() -> None:
    """4.505 is not an amount in a two-digit currency."""
    with pytest.raises(ValueError):
        money.parse("4.505")
    assert money.parse("4.50") == 450


def test_qty_text_is_canonical() -> None:
    """Quantities print without exponent or trailing zeros."""
    assert qty_text(Decimal("2.000")) == "2"
    assert qty_text(Decimal("0.50")) == "0.5"
    assert qty_text(Decimal("100")) == "100"


@given(minor=st.integers(min_value=-(10**15), max_value=10**15), digits=st.integers(0, 4))
def test_text_is_the_decimal_amount_with_the_currency_digits(minor: int, digits: int) -> None:
    currency = Money(digits)
    assert currency.text(minor) == str(currency.from_minor(minor))
    assert currency.parse(currency.text(abs(minor))) == abs(minor)
