"""The models a POS sync agent touches, as each Odoo version declares them.

Only the fields an agent reads or writes are here, with the differences
between versions that change what a payload may contain: ``pos_categ_id``
(16) became ``pos_categ_ids`` (17+); order lines gained ``uuid`` in 17 and
orders and payments in 18; 16 requires a pricelist on every order.

Products are two models, as in Odoo (``addons/product/models/product_product.py``,
``_inherits = {'product.template': 'product_tmpl_id'}``): the name, price
(``list_price``, read on the variant as ``lst_price`` by
``_compute_product_lst_price``), taxes, POS category, ``available_in_pos`` and
``sale_ok`` are stored on ``product.template``; barcode, internal reference
and ``active`` on the variant. Saving the product form writes the template
only, so the variant's ``write_date`` does not move.

A tax's ``price_include`` is stored up to 17. From 18 it is computed
(``addons/account/models/account_tax.py`` ``_compute_price_include``) from
``price_include_override`` and, when that is unset, the company's
``account_price_include``: changing the company setting reprices every such
tax without touching any tax's ``write_date``.
"""

from __future__ import annotations

from .orm import Env, Field, ModelSpec


def _now(env: Env) -> object:
    return env.db.clock.now()


def _uid(env: Env) -> int:
    return env.uid


def _m2o(comodel: str, string: str, required: bool = False) -> Field:
    return Field("many2one", string, comodel=comodel, required=required)


def _m2m(comodel: str, string: str) -> Field:
    return Field("many2many", string, comodel=comodel)


def _o2m(comodel: str, inverse: str, string: str) -> Field:
    return Field("one2many", string, comodel=comodel, inverse=inverse)


def _active() -> Field:
    return Field("boolean", "Active", default=True)


def _related(ftype: str, string: str, path: str, comodel: str | None = None) -> Field:
    return Field(ftype, string, comodel=comodel, related=path)


def _company(env: Env) -> int | None:
    companies = env.db.tables["res.company"]
    return min(companies) if companies else None


def _tax_price_include(env: Env, row: dict[str, object]) -> bool:
    """18+ ``account.tax._compute_price_include``."""
    override = row.get("price_include_override")
    if override:
        return override == "tax_included"
    company = env.db.tables["res.company"].get(row.get("company_id"))  # type: ignore[arg-type]
    return bool(company) and company.get("account_price_include") == "tax_included"


def _tax_fields(version: int) -> dict[str, Field]:
    fields = {
        "name": Field("char", "Tax Name", required=True),
        "amount": Field("float", "Amount", default=0.0),
        # percent, fixed, division, group (children_tax_ids computed in sequence)
        "amount_type": Field("selection", "Tax Computation", default="percent"),
        "children_tax_ids": _m2m("account.tax", "Children Taxes"),
        "include_base_amount": Field("boolean", "Affect Base of Subsequent Taxes"),
        "sequence": Field("integer", "Sequence", default=1),
        "type_tax_use": Field("selection", "Tax Type", default="sale"),
        "company_id": Field("many2one", "Company", comodel="res.company", default=_company),
        "active": _active(),
    }
    if version >= 18:
        fields["price_include_override"] = Field("selection", "Included in Price")
        fields["price_include"] = Field("boolean", "Included in Price", compute=_tax_price_include)
    else:
        fields["price_include"] = Field("boolean", "Included in Price", default=False)
    return fields


def build_models(version: int) -> dict[str, ModelSpec]:
    """The model declarations of ``version`` (16, 17, 18 or 19)."""
    category = (
        ("pos_categ_id", "many2one", "Point of Sale Category")
        if version <= 16
        else ("pos_categ_ids", "many2many", "Point of Sale Category")
    )
    specs = [
        ModelSpec(
            "res.company",
            "Companies",
            {
                "name": Field("char", "Company Name", required=True),
                **(
                    {
                        "account_price_include": Field(
                            "selection", "Default Sales Price Include", default="tax_excluded"
                        )
                    }
                    if version >= 18
                    else {}
                ),
            },
        ),
        ModelSpec(
            "account.cash.rounding",
            "Account Cash Rounding",
            {
                "name": Field("char", "Name", required=True),
                "rounding": Field("float", "Rounding Precision", default=0.01),
                "rounding_method": Field("selection", "Rounding Method", default="HALF-UP"),
            },
        ),
        ModelSpec(
            "res.users",
            "User",
            {
                "name": Field("char", "Name", required=True),
                "login": Field("char", "Login", required=True),
                "password": Field("char", "Password", readable=False),
                "active": _active(),
            },
            order="name, login",
        ),
        ModelSpec("res.partner", "Contact", {"name": Field("char", "Name"), "active": _active()}),
        ModelSpec(
            "product.pricelist",
            "Pricelist",
            {"name": Field("char", "Pricelist Name", required=True), "active": _active()},
        ),
        ModelSpec("account.fiscal.position", "Fiscal Position", {"name": Field("char", "Name")}),
        ModelSpec("account.move", "Journal Entry", {"name": Field("char", "Number")}),
        ModelSpec("account.tax", "Tax", _tax_fields(version), order="sequence,id"),
        ModelSpec(
            "pos.category",
            "Point of Sale Category",
            {
                "name": Field("char", "Category Name", required=True),
                "parent_id": _m2o("pos.category", "Parent Category"),
                "sequence": Field("integer", "Sequence", default=0),
            },
            order="sequence, name",
        ),
        ModelSpec(
            "product.template",
            "Product",
            {
                "name": Field("char", "Name", required=True),
                "list_price": Field("float", "Sales Price", default=1.0),
                "taxes_id": _m2m("account.tax", "Sales Taxes"),
                category[0]: Field(category[1], category[2], comodel="pos.category"),
                "available_in_pos": Field("boolean", "Available in POS", default=False),
                "sale_ok": Field("boolean", "Can be Sold", default=True),
                "active": _active(),
            },
            order="name",
        ),
        ModelSpec(
            "product.product",
            "Product Variant",
            {
                "product_tmpl_id": _m2o("product.template", "Product Template", required=True),
                "default_code": Field("char", "Internal Reference"),
                "barcode": Field("char", "Barcode"),
                "active": _active(),
                "name": _related("char", "Name", "product_tmpl_id.name"),
                "lst_price": _related("float", "Sales Price", "product_tmpl_id.list_price"),
                "taxes_id": _related(
                    "many2many", "Sales Taxes", "product_tmpl_id.taxes_id", "account.tax"
                ),
                category[0]: _related(
                    category[1], category[2], f"product_tmpl_id.{category[0]}", "pos.category"
                ),
                "available_in_pos": _related(
                    "boolean", "Available in POS", "product_tmpl_id.available_in_pos"
                ),
                "sale_ok": _related("boolean", "Can be Sold", "product_tmpl_id.sale_ok"),
            },
            order="default_code, name, id",
        ),
        ModelSpec("account.account", "Account", {"name": Field("char", "Account Name")}),
        ModelSpec(
            "account.journal",
            "Journal",
            {
                "name": Field("char", "Journal Name", required=True),
                "type": Field("selection", "Type", default="cash"),
                "loss_account_id": _m2o("account.account", "Loss Account"),
                "profit_account_id": _m2o("account.account", "Profit Account"),
            },
        ),
        ModelSpec(
            "pos.payment.method",
            "Point of Sale Payment Methods",
            {
                "name": Field("char", "Method", required=True),
                "is_cash_count": Field("boolean", "Cash", default=False),
                "journal_id": _m2o("account.journal", "Journal"),
                "active": _active(),
            },
        ),
        ModelSpec(
            "pos.config",
            "Point of Sale Configuration",
            {
                "name": Field("char", "Point of Sale", required=True),
                "cash_control": Field("boolean", "Advanced Cash Control", default=False),
                "payment_method_ids": _m2m("pos.payment.method", "Payment Methods"),
                "cash_rounding": Field("boolean", "Cash Rounding"),
                "rounding_method": _m2o("account.cash.rounding", "Cash rounding"),
                "only_round_cash_method": Field("boolean", "Only apply rounding on cash"),
                "pricelist_id": _m2o("product.pricelist", "Default Pricelist"),
                "active": _active(),
            },
        ),
        ModelSpec(
            "pos.session",
            "Point of Sale Session",
            {
                "name": Field("char", "Session ID", required=True, default="/"),
                "config_id": _m2o("pos.config", "Point of Sale", required=True),
                "state": Field("selection", "Status", required=True, default="opening_control"),
                "rescue": Field("boolean", "Recovery Session", default=False),
                "start_at": Field("datetime", "Opening Date"),
                "stop_at": Field("datetime", "Closing Date"),
                "user_id": Field(
                    "many2one", "Opened By", comodel="res.users", required=True, default=_uid
                ),
                "payment_method_ids": _m2m("pos.payment.method", "Payment Methods"),
                "cash_register_balance_start": Field("float", "Starting Balance", default=0.0),
                "cash_register_balance_end_real": Field("float", "Ending Balance", default=0.0),
                "sequence_number": Field("integer", "Order Sequence Number", default=1),
                "order_ids": _o2m("pos.order", "session_id", "Orders"),
            },
            order="id desc",
        ),
        ModelSpec(
            "pos.order",
            "Point of Sale Orders",
            {
                "name": Field("char", "Order Ref", required=True, default="/"),
                "pos_reference": Field("char", "Receipt Number"),
                **({"uuid": Field("char", "Uuid")} if version >= 18 else {}),
                "session_id": _m2o("pos.session", "Session", required=True),
                "config_id": _m2o("pos.config", "Point of Sale"),
                "user_id": Field("many2one", "Responsible", comodel="res.users", default=_uid),
                "partner_id": _m2o("res.partner", "Customer"),
                "pricelist_id": _m2o("product.pricelist", "Pricelist", required=version <= 16),
                "fiscal_position_id": _m2o("account.fiscal.position", "Fiscal Position"),
                "date_order": Field("datetime", "Date", default=_now),
                "amount_tax": Field("float", "Taxes", required=True),
                "amount_total": Field("float", "Total", required=True),
                "amount_paid": Field("float", "Paid", required=True),
                "amount_return": Field("float", "Returned", required=True),
                "state": Field("selection", "Status", default="draft"),
                "lines": _o2m("pos.order.line", "order_id", "Order Lines"),
                "payment_ids": _o2m("pos.payment", "pos_order_id", "Payments"),
                "sequence_number": Field("integer", "Sequence Number", default=1),
                "to_invoice": Field("boolean", "To invoice"),
                "is_tipped": Field("boolean", "Is this already tipped?"),
                "tip_amount": Field("float", "Tip Amount"),
                "access_token": Field("char", "Security Token"),
                "account_move": _m2o("account.move", "Invoice"),
                "note": Field("text", "Internal Notes"),
                **(
                    {"to_ship": Field("boolean", "To ship")}
                    if version <= 16
                    else {
                        "shipping_date": Field("char", "Shipping Date"),
                        "ticket_code": Field("char", "Ticket code"),
                        "last_order_preparation_change": Field("char", "Last preparation change"),
                    }
                ),
            },
            order="date_order desc, name desc, id desc",
        ),
        ModelSpec(
            "pos.order.line",
            "Point of Sale Order Lines",
            {
                "name": Field("char", "Line No", required=True),
                "order_id": _m2o("pos.order", "Order Ref", required=True),
                "product_id": _m2o("product.product", "Product", required=True),
                "full_product_name": Field("char", "Full Product Name"),
                "qty": Field("float", "Quantity", default=1.0),
                "price_unit": Field("float", "Unit Price", default=0.0),
                "discount": Field("float", "Discount (%)", default=0.0),
                "price_subtotal": Field("float", "Subtotal w/o Tax", required=True),
                "price_subtotal_incl": Field("float", "Subtotal", required=True),
                "tax_ids": _m2m("account.tax", "Taxes"),
                "refunded_orderline_id": _m2o("pos.order.line", "Refunded Order Line"),
                "customer_note": Field("char", "Customer Note"),
                **({"uuid": Field("char", "Uuid")} if version >= 17 else {}),
            },
        ),
        ModelSpec(
            "pos.payment",
            "Point of Sale Payments",
            {
                "name": Field("char", "Label"),
                "pos_order_id": _m2o("pos.order", "Order", required=True),
                "session_id": _m2o("pos.session", "Session"),
                "payment_method_id": _m2o("pos.payment.method", "Payment Method", required=True),
                "amount": Field("float", "Amount", required=True),
                "payment_date": Field("datetime", "Date", required=True, default=_now),
                "is_change": Field("boolean", "Is this payment change?"),
                "card_type": Field("char", "Type of card used"),
                "cardholder_name": Field("char", "Cardholder Name"),
                "transaction_id": Field("char", "Payment Transaction ID"),
                "payment_status": Field("char", "Payment Status"),
                "ticket": Field("char", "Payment Receipt Info"),
                **({"uuid": Field("char", "Uuid")} if version >= 18 else {}),
            },
        ),
    ]
    return {spec.name: spec for spec in specs}
