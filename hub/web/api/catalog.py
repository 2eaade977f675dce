"""Catalogue over HTTP: products (list, search, barcode, one), categories, payment methods,
and the cache's counters. A manager's changes are ``hub.web.api.catalog_admin``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import FromQuery, QueryParameter

from hub.catalog import repository as catalog
from hub.catalog.models import PaymentMethodPage, Product, ProductPage
from hub.catalog.search import MAX_QUERY_CHARS, Availability, Fuzziness, Query
from hub.errors import NotFound
from hub.web.api import pagination
from hub.web.api.context import ALL_STAFF, MANAGERS, Hub, requires
from hub.web.api.openapi import errors
from hub.web.api.operations_bodies import CacheStats
from hub.web.api.response_bodies import CategoryPage
from hub.web.api.schemas import PathId


@get(
    "/api/v1/products",
    guards=[requires(*ALL_STAFF)],
    tags=["catalogue"],
    responses=errors(403, 422, ok=ProductPage),
)
async def list_products(
    hub: Hub,
    q: Annotated[str | None, QueryParameter(max_length=MAX_QUERY_CHARS)] = None,
    category_id: Annotated[int | None, QueryParameter(ge=1, le=2**53)] = None,
    barcode: Annotated[str | None, QueryParameter(max_length=64)] = None,
    available: FromQuery[Availability] = "yes",
    fuzzy: FromQuery[Fuzziness] = "auto",
    limit: Annotated[int | None, QueryParameter(ge=1, le=pagination.MAX_LIMIT)] = None,
    after: Annotated[str | None, QueryParameter(max_length=2048)] = None,
) -> ProductPage:
    """Products: ``q`` searches name, barcode and reference, best match first;
    ``barcode`` finds one by exact barcode; neither lists in id order.
    ``available``: ``yes`` (default, sellable only), ``no``, or ``any``.
    ``fuzzy``: typo matches after the exact ones, ``auto`` (default: only when
    fewer than three exact ones), ``always`` or ``never``."""
    size = pagination.check_limit(limit)
    if q is not None and q.strip():
        query = Query.parse(q, category_id, available, fuzzy)
        return await hub.catalog.search(query, size, after)
    if barcode is not None:
        product = await hub.catalog.by_barcode(barcode)
        keep = product is not None and _wanted(product, category_id, available)
        return ProductPage([product] if product is not None and keep else [], None)
    items, last = await hub.catalog.listing(
        category_id, available, size, pagination.decode("p", after)
    )
    return ProductPage(items, pagination.encode("p", last) if last else None)


def _wanted(product: Product, category_id: int | None, available: Availability) -> bool:
    if category_id is not None and product.category_id != category_id:
        return False
    return available == "any" or product.available == (available == "yes")


@get(
    "/api/v1/products/{product_id:int}",
    guards=[requires(*ALL_STAFF)],
    tags=["catalogue"],
    responses=errors(403, 404, 422, ok=Product),
)
async def get_product(hub: Hub, product_id: PathId) -> Product:
    product = await hub.catalog.product(product_id)
    if product is None:
        raise NotFound(f"product {product_id} does not exist", {"product_id": product_id})
    return product


@get(
    "/api/v1/categories",
    guards=[requires(*ALL_STAFF)],
    tags=["catalogue"],
    responses=errors(403, ok=CategoryPage),
)
async def list_categories(hub: Hub) -> dict[str, Any]:
    return {"items": await hub.catalog.categories(), "next": None}


@get(
    "/api/v1/payment-methods",
    guards=[requires(*ALL_STAFF)],
    tags=["catalogue"],
    responses=errors(403, ok=PaymentMethodPage),
)
async def list_payment_methods(hub: Hub) -> PaymentMethodPage:
    return PaymentMethodPage(await hub.store.read(catalog.list_payment_methods), None)


@get(
    "/api/v1/cache/stats",
    guards=[requires(*MANAGERS)],
    tags=["catalogue"],
    responses=errors(403, ok=CacheStats),
)
async def cache_stats(hub: Hub) -> dict[str, Any]:
    """Hits, misses, errors, evictions and invalidations per kind, and the backend in use."""
    return hub.cache.stats()


ROUTES = [
    list_products,
    get_product,
    list_categories,
    list_payment_methods,
    cache_stats,
]
