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

Where Odoo keeps what the hub mirrors decides what a change looks like:

* A product's name, price, taxes, POS category, ``available_in_pos`` and
  ``sale_ok`` live on its ``product.template`` (``product.product`` inherits
  them, ``addons/product/models/product_product.py``). Saving the product
  form writes the template and leaves the variant's ``write_date`` alone, so
  products are asked for with ``product_tmpl_id.write_date`` too.
* From 18 a tax's ``price_include`` is computed from the company's
  ``account_price_include`` when the tax does not override it
  (``account_tax.py`` ``_compute_price_include``): changing that setting
  stamps no tax. The reconcile (about hourly) re-reads every tax.
* Payment methods belong to the POS configuration (``pos.config.payment_method_ids``),
  and ``pos.payment._check_payment_method_id`` refuses any other: only the
  configuration's are pulled, read whole at every pull (they are few, and
  adding one to the configuration stamps no method), and the others are
  archived at the hub, so a till cannot take a tender Odoo will refuse.
* The hub computes percent taxes, included or not. A tax it cannot reproduce
  (``group``, ``fixed``, ``division``, or ``include_base_amount``, which Odoo 18+
  apply when they recompute the totals, ``pos.order._compute_prices``) is
  caught here: the tax is inactive at the hub and every product carrying it
  is not for sale there, with a warning, rather than sold at a total Odoo
  will not accept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlite_utils

from cloud_sync import pull_apply
from cloud_sync.odoo import OdooClient
from hub.db.store import Store
from hub.logs import get_logger
from hub.orders.money import Money, qty_text

log = get_logger("edgehub.sync")

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
    parent: tuple[str, str] | None = None  # (many2one, model) of the record holding most fields


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


def reproducible(row: dict[str, Any]) -> bool:
    """Whether the hub computes this tax as Odoo does: a plain percent tax."""
    return row.get("amount_type", "percent") == "percent" and not row.get("include_base_amount")


def _tax(row: dict[str, Any], version: int) -> pull_apply.RemoteTax:
    return pull_apply.RemoteTax(
        row["id"],
        row["name"],
        qty_text(_decimal(row.get("amount"))),
        bool(row.get("price_include")),
        bool(row.get("active", True)) and reproducible(row),
    )


UNSUPPORTED_TAXES = ["|", ("amount_type", "!=", "percent"), ("include_base_amount", "=", True)]


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
        "product_tmpl_id",
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
        lambda v: [
            "name",
            "amount",
            "amount_type",
            "price_include",
            "include_base_amount",
            "active",
            "write_date",
        ],
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
        parent=("product_tmpl_id", "product.template"),
    ),
)


class Puller:
    """Brings the hub's catalogue up to date with one Odoo."""

    def __init__(
        self,
        client: OdooClient,
        store: Store,
        money: Money,
        version: int,
        *,
        config_id: int | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.money = money
        self.version = version
        self.config_id = config_id  # its payment_method_ids are the methods pulled
        self._unsupported: set[int] = set()  # Odoo taxes the hub cannot compute
        self._retaxed: list[int] = []  # Odoo taxes changed this pull: re-read their products
        self.models_pulled = 0  # models brought up to date, ever: progress the agent counts
        self._unfinished: dict[str, list[int]] | None = None  # a pull that stopped partway

    async def pull(self, *, reconcile: bool = False) -> dict[str, list[int]]:
        """Apply every change since the last pull; returns the hub ids changed, by table.

        A pull that failed partway goes on, at the next call, from the model
        that failed: on a flaky link the models already pulled are not asked again.
        """
        if self._unfinished is None:
            self._retaxed = []
            self._unfinished = {}
        changed = self._unfinished
        for model in MODELS:
            if model.table in changed:
                continue
            if model.name == "product.product":  # after the taxes: as they are now
                self._unsupported = set(await self._search("account.tax", UNSUPPORTED_TAXES))
            if model.name == "pos.payment.method" and self.config_id is not None:
                ids = await self._pull_methods(self.config_id)
            else:
                # Every tax at the reconcile: 18+ compute price_include from the company.
                full = reconcile and model.name == "account.tax"
                ids = await self._pull_model(model, full=full)
                if reconcile:
                    present = await self._search(model.name, [])
                    ids += await self.store.write(pull_apply.archive_missing, model.table, present)
            if reconcile:
                await self.store.write(_mark_reconciled, model.name)
            changed[model.table] = sorted(set(ids))
            self.models_pulled += 1
        self._unfinished = None
        return {table: ids for table, ids in changed.items() if ids}

    async def _pull_methods(self, config_id: int) -> list[int]:
        """The POS configuration's payment methods, whole; the hub's others archived."""
        model = next(m for m in MODELS if m.name == "pos.payment.method")
        configs = await self.client.call("pos.config", "read", [config_id], ["payment_method_ids"])
        allowed = [int(i) for i in (configs[0].get("payment_method_ids") or [])] if configs else []
        changed: list[int] = []
        if allowed:
            rows = await self.client.call(model.name, "read", allowed, model.fields(self.version))
            records = [model.convert(row, self.version) for row in rows]
            changed += await self.store.write(model.apply, self.money, records)
        changed += await self.store.write(pull_apply.archive_methods_outside, allowed)
        return changed

    def _domain(self, model: Model, mark: str | None, full: bool) -> list[Any]:
        if full:
            return []
        if mark is None:
            return list(model.first_domain)
        since = _shift(mark, -OVERLAP)
        domain: list[Any] = [("write_date", ">", since)]
        if model.parent:
            # The product form saves the template: the variant's write_date stays.
            domain = ["|", *domain, (f"{model.parent[0]}.write_date", ">", since)]
        if model.name == "product.product" and self._retaxed:
            domain = ["|", ("taxes_id", "in", self._retaxed), *domain]
        return domain

    def _convert(self, model: Model, row: dict[str, Any]) -> Any:
        record = model.convert(row, self.version)
        if model.name == "product.product":
            unsupported = set(record.tax_remote_ids) & self._unsupported
            if unsupported and record.sale_ok:
                log.warning(
                    "product_not_for_sale",
                    remote_id=record.remote_id,
                    name=record.name,
                    reason="tax_not_reproducible",
                    taxes=sorted(unsupported),
                )
                record = replace(record, sale_ok=False)
        return record

    async def _pull_model(self, model: Model, *, full: bool = False) -> list[int]:
        mark = await self.store.read(pull_apply.watermark, model.name)
        ids = await self._search(model.name, self._domain(model, mark, full))
        fields = model.fields(self.version)
        changed: list[int] = []
        newest = mark
        for start in range(0, len(ids), CHUNK):
            rows = await self.client.call(model.name, "read", ids[start : start + CHUNK], fields)
            records = [self._convert(model, row) for row in rows]
            applied = await self.store.write(model.apply, self.money, records)
            if applied and model.name == "account.tax":
                self._retaxed += [int(row["id"]) for row in rows]
            changed += applied
            stamps = [row["write_date"] for row in rows if row.get("write_date")]
            if model.parent:
                stamps += await self._parent_stamps(model.parent, rows)
            if stamps:
                newest = max(stamps) if newest is None else max(newest, *stamps)
        if newest != mark or mark is None:
            await self.store.write(pull_apply.set_watermark, model.name, newest)
        if changed:
            log.info("catalogue_pulled", model=model.name, changed=len(changed))
        return changed

    async def _parent_stamps(
        self, parent: tuple[str, str], rows: list[dict[str, Any]]
    ) -> list[str]:
        """The templates' ``write_date``: the watermark must pass a template-only change."""
        link, parent_model = parent
        ids = sorted({i for i in (_m2o(row.get(link)) for row in rows) if i is not None})
        if not ids:
            return []
        parents = await self.client.call(parent_model, "read", ids, ["write_date"])
        return [p["write_date"] for p in parents if p.get("write_date")]

    async def _search(self, model: str, domain: Sequence[Any]) -> list[int]:
        ids = await self.client.call(model, "search", list(domain), context=NO_ARCHIVE, order="id")
        return [int(i) for i in ids]


def _shift(stamp: str, delta: timedelta) -> str:
    return (datetime.strptime(stamp[:19], ODOO_FORMAT) + delta).strftime(ODOO_FORMAT)


def _mark_reconciled(db: sqlite_utils.Database, model: str) -> None:
    pull_apply.set_watermark(db, model, pull_apply.watermark(db, model), reconciled=True)
