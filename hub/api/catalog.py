"""Catalogue reads: products (by page, category or barcode), categories, payment methods."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import Parameter

from hub.api import pagination
from hub.api.context import ALL_STAFF, HubContext, requires
from hub.catalog import repository as catalog
from hub.errors import NotFound


@get("/api/v1/products", guards=[requires(*ALL_STAFF)], tags=["catalogue"])
async def list_products(
    hub: HubContext,
    category_id: Annotated[int | None, Parameter(ge=1)] = None,
    barcode: Annotated[str | None, Parameter(max_length=64)] = None,
    limit: Annotated[int | None, Parameter(ge=1, le=pagination.MAX_LIMIT)] = None,
    after: Annotated[str | None, Parameter(max_length=64)] = None,
) -> dict[str, Any]:
    """Sellable products in id order; ``barcode`` finds one by exact barcode."""
    size = pagination.check_limit(limit)
    start = pagination.decode("p", after)
    items = await hub.store.read(
        catalog.list_products,
        hub.money,
        limit=size + 1,
        after=start,
        category_id=category_id,
        barcode=barcode,
    )
    return pagination.page(items, size, "p")


@get("/api/v1/products/{product_id:int}", guards=[requires(*ALL_STAFF)], tags=["catalogue"])
async def get_product(hub: HubContext, product_id: int) -> dict[str, Any]:
    product = await hub.store.read(catalog.get_product, hub.money, product_id)
    if product is None:
        raise NotFound(f"product {product_id} does not exist", {"product_id": product_id})
    return product


@get("/api/v1/categories", guards=[requires(*ALL_STAFF)], tags=["catalogue"])
async def list_categories(hub: HubContext) -> dict[str, Any]:
    return {"items": await hub.store.read(catalog.list_categories), "next": None}


@get("/api/v1/payment-methods", guards=[requires(*ALL_STAFF)], tags=["catalogue"])
async def list_payment_methods(hub: HubContext) -> dict[str, Any]:
    return {"items": await hub.store.read(catalog.list_payment_methods), "next": None}


ROUTES = [list_products, get_product, list_categories, list_payment_methods]
