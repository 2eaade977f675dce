"""Money and tax arithmetic: pure, Decimal only, rounded once per line.

Prices live in integer minor units; quantities, discounts and tax rates are
Decimals. A line's shelf price is what the customer pays for a price-included
tax: the included tax is carved out of the rounded line price, so a 4.50 coffee
costs exactly 4.50 whatever the rate. Excluded taxes are added on the untaxed
amount. Rounding is half-up to the currency's minor unit, per line, as Odoo's
default ``round_per_line`` does, so totals agree with head office.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Tax:
    id: int
    rate: Decimal  # percent, e.g. Decimal("10")
    price_include: bool


@dataclass(frozen=True, slots=True)
class LineAmounts:
    subtotal: int  # untaxed, minor units
    tax_amount: int
    subtotal_incl: int


class Money:
    """Conversion between decimal strings, Decimals and minor units for one currency."""

    def __init__(self, digits: int = 2) -> None:
        self.digits = digits
        self.scale = Decimal(10) ** digits
        self.quantum = Decimal(1).scaleb(-digits)
        self._unit = 10**digits

    def to_minor(self, amount: Decimal) -> int:
        return int((amount * self.scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def from_minor(self, minor: int) -> Decimal:
        return (Decimal(minor) / self.scale).quantize(self.quantum)

    def text(self, minor: int) -> str:
        """The API's form of an amount: a decimal string with the currency's digits.

        Formatted from the integer directly: every amount of every answer and
        event passes here, and a Decimal division per amount showed up in profiles.
        """
        if self.digits == 0:
            return str(minor)
        whole, frac = divmod(abs(minor), self._unit)
        return f"{'-' if minor < 0 else ''}{whole}.{frac:0{self.digits}d}"

    def parse(self, text: str) -> int:
        """A client's decimal string to minor units; rejects more digits than the currency has."""
        value = parse_decimal(text)
        if value.as_tuple().exponent < -self.digits:  # type: ignore[operator]
            raise ValueError(f"{text!r} has more than {self.digits} decimal places")
        return self.to_minor(value)

    def line(
        self, price_unit: int, qty: Decimal, discount: Decimal, taxes: Iterable[Tax]
    ) -> LineAmounts:
        """Amounts of one order line; ``price_unit`` is the catalogue's shelf price."""
        taxes = list(taxes)
        gross = Decimal(price_unit) * qty * (1 - discount / HUNDRED)  # minor units, unrounded
        included = sum((t.rate for t in taxes if t.price_include), Decimal(0)) / HUNDRED
        excluded = sum((t.rate for t in taxes if not t.price_include), Decimal(0)) / HUNDRED
        shelf = _round(gross)
        untaxed = _round(gross / (1 + included))
        tax_included = shelf - untaxed
        tax_excluded = _round(Decimal(untaxed) * excluded)
        tax = tax_included + tax_excluded
        return LineAmounts(subtotal=untaxed, tax_amount=tax, subtotal_incl=untaxed + tax)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_decimal(text: str) -> Decimal:
    """Parse a client's decimal string strictly: finite, plain digits, no exponent."""
    if not isinstance(text, str) or not text or len(text) > 32:
        raise ValueError('expected a decimal string such as "4.50"')
    stripped = text.strip()
    if stripped != text or any(c not in "0123456789.-" for c in text):
        raise ValueError(f"{text!r} is not a plain decimal string")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a decimal number") from exc
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


def qty_text(qty: Decimal) -> str:
    """Canonical quantity string: no trailing zeros, no exponent ("2", "0.5")."""
    normalized = qty.normalize()
    text = format(normalized, "f")
    return text if text != "-0" else "0"
