"""A product as the catalogue routes answer it, the cache holds it and ``catalog.updated``
events carry it (API.md): prices as decimal strings, stock only where it is tracked.

A msgspec Struct, so the JSON, the OpenAPI document and mypy read the same fields.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from hub.orders.models import Amount


class Product(msgspec.Struct):
    id: int
    name: str
    barcode: str | None
    default_code: str | None
    price: Amount
    category_id: int | None
    tax_ids: list[int]
    available: bool
    """Active and for sale."""
    stock_tracked: bool
    qty_available: Annotated[
        str | None,
        msgspec.Meta(description="Only for a stock-tracked product; null otherwise."),
    ]
    station: str | None
    remote_id: Annotated[
        int | None,
        msgspec.Meta(description="The product's id at head office's Odoo; null for the hub's own."),
    ]
    local_only: bool


class ProductPage(msgspec.Struct):
    """A page of products; ``next`` is the ``after`` of the next page, null on the last."""

    items: list[Product]
    next: str | None


class PaymentMethod(msgspec.Struct):
    """A way the till takes money; ``is_cash`` ones give change."""

    id: int
    name: str
    is_cash: bool
    remote_id: int | None


class PaymentMethodPage(msgspec.Struct):
    items: list[PaymentMethod]
    next: None
    """Always null: every active method is on the one page."""
