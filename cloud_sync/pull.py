"""Pulling the catalogue from Odoo: what changed since the last pull, by Odoo's own clock.

Each model keeps a watermark: the newest ``write_date`` applied, a value of
Odoo's clock, never the hub's, so clock skew between the two cannot hide a
change. The next pull asks for ``write_date >`` that watermark minus an
overlap: PostgreSQL stamps ``write_date`` with the time a transaction
*started*, so a long transaction can commit a change older than one already
seen. Re-reading the overlap costs a few rows; applying them again changes
nothing (``pull_apply`` writes only differences).

``active_test: False`` makes archived records visible, so an archive arrives
as a change like any other. Deletions leave no trace in ``write_date``;
``reconcile`` compares the full id lists and archives what is gone.

Ids come from one ``search`` and records from ``read`` in chunks, each chunk
applied in its own transaction. The watermark moves only after the last
chunk: a pull interrupted halfway starts again from the old one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlite_utils

from cloud_sync import pull_apply
from cloud_sync.odoo import OdooClient
from hub.db.store import Store
from hub.orders.money import Money, qty_text

log = logging.getLogger("edgehub.sync")

CHUNK = 200
OVERLAP = timedelta(seconds=60)
ODOO_FORMAT = "%Y-%m-%d %H:%M:%S"
NO_ARCHIVE = {"active_test": False}

Converter = Callable[[dict[str, Any], int], Any]
Applier = Callable[[sqlite_utils.Database, Money, list[Any]], list[int]]


@dataclass(frozen=True, slots=True)
class Model:
    """One Odoo model the hub mirrors: where it goes and how its rows read."""

    name: str
    table: str
    fields: Callable[[int], list[str]]
    convert: Converter
    apply: Applier
    first_domain: tuple[Any, ...] = ()  # limits the very first pull (a big Odoo's catalogue)


def _m2o(value: Any) -> int | None:
    if isinstance(value, list) and value:
        return int(value[0])
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _decimal(value: Any) -> Decimal:
    # repr() of a float is its shortest round-trip form: 3.9 → "3.9", not 3.899999…
    return Decimal(repr(float(value or 0)))


def _category(row: dict[str, Any], version: int) -> pull_apply.RemoteCategory:
    return pull_apply.RemoteCategory(
        row["id"], row["name"], _m2o(row.get("parent_id")), int(row.get("sequence") or 0)
    )


def _tax(row: dict[str, Any], version: int) -> pull_apply.RemoteTax:
    return pull_apply.RemoteTax(
        row["id"],
        row["name"],
        qty_text(_decimal(row.get("amount"))),
        bool(row.get("price_include")),
        bool(row.get("active", True)) and row.get("amount_type", "percent") == "percent",
    )


def _payment_method(row: dict[str, Any], version: int) -> pull_apply.RemotePaymentMethod:
    return pull_apply.RemotePaymentMethod(
        row["id"], row["name"], bool(row.get("is_cash_count")), bool(row.get("active", True))
    )


def _product(row: dict[str, Any], version: int) -> pull_apply.RemoteProduct:
    if version <= 16:
        category = _m2o(row.get("pos_categ_id"))
    else:
        categories = row.get("pos_categ_ids") or []
        category = int(categories[0]) if categories else None
    return pull_apply.RemoteProduct(
        remote_id=row["id"],
        name=row["name"],
        barcode=_text(row.get("barcode")),
        default_code=_text(row.get("default_code")),
        price=_decimal(row.get("lst_price")),
        category_remote_id=category,
        tax_remote_ids=tuple(int(t) for t in row.get("taxes_id") or ()),
        active=bool(row.get("active", True)),
        sale_ok=bool(row.get("sale_ok", True)) and bool(row.get("available_in_pos", True)),
    )


def _product_fields(version: int) -> list[str]:
    category = "pos_categ_id" if version <= 16 else "pos_categ_ids"
    return [
        "name",
        "barcode",
        "default_code",
        "lst_price",
        "taxes_id",
        category,
        "available_in_pos",
        "sale_ok",
        "active",
        "write_date",
    ]


# Categories and taxes before products, whose rows point at them.
MODELS: tuple[Model, ...] = (
    Model(
        "pos.category",
        "categories",
        lambda v: ["name", "parent_id", "sequence", "write_date"],
        _category,
        lambda db, money, rows: pull_apply.apply_categories(db, rows),
    ),
    Model(
        "account.tax",
        "taxes",
        lambda v: ["name", "amount", "amount_type", "price_include", "active", "write_date"],
        _tax,
        lambda db, money, rows: pull_apply.apply_taxes(db, rows),
    ),
    Model(
        "pos.payment.method",
        "payment_methods",
        lambda v: ["name", "is_cash_count", "active", "write_date"],
        _payment_method,
        lambda db, money, rows: pull_apply.apply_payment_methods(db, rows),
    ),
    Model(
        "product.product",
        "products",
        _product_fields,
        _product,
        pull_apply.apply_products,
        first_domain=(("available_in_pos", "=", True),),
    ),
)


class Puller:
    """Brings the hub's catalogue up to date with one Odoo."""

    def __init__(self, client: OdooClient, store: Store, money: Money, version: int) -> None:
        self.client = client
        self.store = store
        self.money = money
        self.version = version
        self.models_pulled = 0  # models brought up to date, ever: progress the agent counts
        self._unfinished: dict[str, list[int]] | None = None  # a pull that stopped partway

    async def pull(self, *, reconcile: bool = False) -> dict[str, list[int]]:
        """Apply every change since the last pull; returns the hub ids changed, by table.

        A pull that failed partway goes on, at the next call, from the model
        that failed: on a flaky link the models already pulled are not asked again.
        """
        if self._unfinished is None:
            self._unfinished = {}
        changed = self._unfinished
        for model in MODELS:
            if model.table in changed:
                continue
            ids = await self._pull_model(model)
            if reconcile:
                present = await self._search(model.name, [])
                ids += await self.store.write(pull_apply.archive_missing, model.table, present)
                await self.store.write(_mark_reconciled, model.name)
            changed[model.table] = sorted(set(ids))
            self.models_pulled += 1
        self._unfinished = None
        return {table: ids for table, ids in changed.items() if ids}

    async def _pull_model(self, model: Model) -> list[int]:
        mark = await self.store.read(pull_apply.watermark, model.name)
        if mark is None:
            domain: list[Any] = list(model.first_domain)
        else:
            domain = [("write_date", ">", _shift(mark, -OVERLAP))]
        ids = await self._search(model.name, domain)
        fields = model.fields(self.version)
        changed: list[int] = []
        newest = mark
        for start in range(0, len(ids), CHUNK):
            rows = await self.client.call(model.name, "read", ids[start : start + CHUNK], fields)
            records = [model.convert(row, self.version) for row in rows]
            changed += await self.store.write(model.apply, self.money, records)
            stamps = [row["write_date"] for row in rows if row.get("write_date")]
            if stamps:
                newest = max(stamps) if newest is None else max(newest, *stamps)
        if newest != mark or mark is None:
            await self.store.write(pull_apply.set_watermark, model.name, newest)
        if changed:
            log.info("catalogue_pulled model=%s changed=%d", model.name, len(changed))
        return changed

    async def _search(self, model: str, domain: Sequence[Any]) -> list[int]:
        ids = await self.client.call(model, "search", list(domain), context=NO_ARCHIVE, order="id")
        return [int(i) for i in ids]


def _shift(stamp: str, delta: timedelta) -> str:
    return (datetime.strptime(stamp[:19], ODOO_FORMAT) + delta).strftime(ODOO_FORMAT)


def _mark_reconciled(db: sqlite_utils.Database, model: str) -> None:
    pull_apply.set_watermark(db, model, pull_apply.watermark(db, model), reconciled=True)
