"""Catalogue management over HTTP (managers and admins): products, categories, taxes.

Bodies are decoded strictly (``hub.web.api.strict_bodies``) into the structs below; a field
left out is left as it is, ``null`` clears an optional one. Every write runs in
the writer's transaction through ``hub.catalog.management`` and answers with
the record as it now is; its ``catalog.updated`` event reaches caches, tills
and the kitchen's routing.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, patch, post
from litestar.params import JSONBody

from hub import mqtt_topics
from hub.catalog import management
from hub.catalog import repository as catalog
from hub.catalog.edits import MAX_CODE, MAX_NAME, ProductInput
from hub.catalog.management import TaxInput
from hub.catalog.models import Product
from hub.errors import ValidationFailed
from hub.web.api.context import ALL_STAFF, MANAGERS, Hub, requires
from hub.web.api.openapi import errors
from hub.web.api.operations_bodies import CategoryRecord, Tax, TaxList
from hub.web.api.schemas import QTY_PATTERN, Amount, Id, PathId, parse_amount

ProductName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CODE)]
StationName = Annotated[str, msgspec.Meta(pattern=mqtt_topics.NAME.pattern)]
Qty = Annotated[str, msgspec.Meta(pattern=QTY_PATTERN)]
TaxIds = Annotated[list[Id], msgspec.Meta(max_length=20)]
Percent = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,3}(\.[0-9]{1,4})?$", examples=["10"])]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class ProductCreateBody(msgspec.Struct, forbid_unknown_fields=True):
    name: ProductName
    price: Amount
    barcode: Code | None = None
    default_code: Code | None = None
    category_id: Id | None = None
    tax_ids: TaxIds = []
    station: StationName | None = None
    stock_tracked: bool = False
    qty_available: Qty | None = None
    available: bool = True


class ProductEditBody(msgspec.Struct, forbid_unknown_fields=True):
    """Any of a product's fields; ``active`` is ``available``'s older name."""

    name: ProductName | Unset = UNSET
    price: Amount | Unset = UNSET
    barcode: Code | Unset | None = UNSET
    default_code: Code | Unset | None = UNSET
    category_id: Id | Unset | None = UNSET
    tax_ids: TaxIds | Unset = UNSET
    station: StationName | Unset | None = UNSET
    stock_tracked: bool | Unset = UNSET
    qty_available: Qty | Unset | None = UNSET
    available: bool | Unset = UNSET
    active: bool | Unset = UNSET


class CategoryCreateBody(msgspec.Struct, forbid_unknown_fields=True):
    name: ProductName
    sequence: Annotated[int, msgspec.Meta(ge=0, le=10**6)] = 0
    parent_id: Id | None = None


class CategoryEditBody(msgspec.Struct, forbid_unknown_fields=True):
    name: ProductName | Unset = UNSET
    sequence: Annotated[int, msgspec.Meta(ge=0, le=10**6)] | Unset = UNSET
    parent_id: Id | Unset | None = UNSET
    active: bool | Unset = UNSET


class TaxCreateBody(msgspec.Struct, forbid_unknown_fields=True):
    name: ProductName
    amount: Percent
    price_include: bool = False
    active: bool = True


class TaxEditBody(msgspec.Struct, forbid_unknown_fields=True):
    name: ProductName | Unset = UNSET
    amount: Percent | Unset = UNSET
    price_include: bool | Unset = UNSET
    active: bool | Unset = UNSET


def _given(body: msgspec.Struct) -> dict[str, Any]:
    return {f: getattr(body, f) for f in body.__struct_fields__ if getattr(body, f) is not UNSET}


def _odoo(hub: Hub) -> bool:
    return hub.settings.odoo.url is not None


@post(
    "/api/v1/products",
    guards=[requires(*MANAGERS)],
    tags=["catalogue"],
    responses=errors(403, 404, 409, 413, 422, ok=Product, ok_statuses=(201,)),
)
async def create_product(hub: Hub, data: JSONBody[ProductCreateBody]) -> Product:
    """A new product of this store (``local_only``): 201 with the product."""
    item = ProductInput(
        name=data.name,
        price=parse_amount(hub.money, "price", data.price),
        barcode=data.barcode,
        default_code=data.default_code,
        category_id=data.category_id,
        station=data.station,
        tax_ids=tuple(data.tax_ids),
        active=data.available,
        stock_tracked=data.stock_tracked,
        qty_available=data.qty_available,
    )
    change = await hub.catalog.apply(management.create_product, hub.money, item, odoo=_odoo(hub))
    assert change.product is not None
    return change.product


@patch(
    "/api/v1/products/{product_id:int}",
    guards=[requires(*MANAGERS)],
    tags=["catalogue"],
    responses=errors(403, 404, 409, 413, 422, ok=Product),
)
async def edit_product(hub: Hub, product_id: PathId, data: JSONBody[ProductEditBody]) -> Product:
    """Change any of a product's fields; the next read of it on any till sees the change.
    With an Odoo connected, a product from Odoo is refused (409 ``odoo_owned``)."""
    changes = _given(data)
    if not changes:
        raise ValidationFailed("give at least one field", {"fields": {"body": "empty"}})
    if "available" in changes and "active" in changes:
        raise ValidationFailed(
            "give available or active, not both", {"fields": {"active": "duplicate"}}
        )
    if "available" in changes:
        changes["active"] = changes.pop("available")
    if "price" in changes:
        changes["price"] = parse_amount(hub.money, "price", changes["price"])
    if "tax_ids" in changes:
        changes["tax_ids"] = tuple(changes["tax_ids"])
    change = await hub.catalog.apply(
        management.edit_product, hub.money, product_id, changes, odoo=_odoo(hub)
    )
    assert change.product is not None
    return change.product


async def _category(hub: Hub, category_id: int) -> dict[str, Any]:
    return await hub.store.read(catalog.get_category, category_id)


@post(
    "/api/v1/categories",
    guards=[requires(*MANAGERS)],
    tags=["catalogue"],
    responses=errors(403, 404, 409, 413, 422, ok=CategoryRecord, ok_statuses=(201,)),
)
async def create_category(hub: Hub, data: JSONBody[CategoryCreateBody]) -> dict[str, Any]:
    def write(db: Any) -> Any:
        category_id, change = management.create_category(
            db, data.name, sequence=data.sequence, parent_id=data.parent_id
        )
        return change, category_id

    change, category_id = await hub.store.write(write)
    await hub.catalog.forget(change.touched)
    return await _category(hub, category_id)


@patch(
    "/api/v1/categories/{category_id:int}",
    guards=[requires(*MANAGERS)],
    tags=["catalogue"],
    responses=errors(403, 404, 409, 413, 422, ok=CategoryRecord),
)
async def edit_category(
    hub: Hub, category_id: PathId, data: JSONBody[CategoryEditBody]
) -> dict[str, Any]:
    changes = _given(data)
    if not changes:
        raise ValidationFailed("give at least one field", {"fields": {"body": "empty"}})
    _, change = await hub.store.write(
        management.edit_category, category_id, changes, odoo=_odoo(hub)
    )
    await hub.catalog.forget(change.touched)
    return await _category(hub, category_id)


@get(
    "/api/v1/taxes",
    guards=[requires(*ALL_STAFF)],
    tags=["catalogue"],
    responses=errors(403, ok=TaxList),
)
async def list_taxes(hub: Hub) -> dict[str, Any]:
    return {"items": await hub.store.read(management.list_taxes), "next": None}


@post(
    "/api/v1/taxes",
    guards=[requires(*MANAGERS)],
    tags=["catalogue"],
    responses=errors(403, 409, 413, 422, ok=Tax, ok_statuses=(201,)),
)
async def create_tax(hub: Hub, data: JSONBody[TaxCreateBody]) -> dict[str, Any]:
    tax = TaxInput(data.name, data.amount, data.price_include, data.active)
    public, change = await hub.store.write(management.create_tax, tax)
    await hub.catalog.forget(change.touched)
    return public


@patch(
    "/api/v1/taxes/{tax_id:int}",
    guards=[requires(*MANAGERS)],
    tags=["catalogue"],
    responses=errors(403, 404, 409, 413, 422, ok=Tax),
)
async def edit_tax(hub: Hub, tax_id: PathId, data: JSONBody[TaxEditBody]) -> dict[str, Any]:
    changes = _given(data)
    if not changes:
        raise ValidationFailed("give at least one field", {"fields": {"body": "empty"}})
    public, change = await hub.store.write(management.edit_tax, tax_id, changes, odoo=_odoo(hub))
    await hub.catalog.forget(change.touched)
    return public


ROUTES = [
    create_product,
    edit_product,
    create_category,
    edit_category,
    list_taxes,
    create_tax,
    edit_tax,
]
