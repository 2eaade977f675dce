"""Point of Sale server behaviour, as ``point_of_sale`` runs it in 16, 17 and 18+.

Mirrors ``pos_order.py`` and ``pos_session.py`` in what a client can observe:

* 16/17 ``create_from_ui(orders, draft)``: orders are ``{id, data, to_invoice}``;
  16 dedupes by ``server_id`` or ``pos_reference`` only when the ``server_id``
  key is present; 17 skips a finalized ``server_id``, overwrites a draft with
  the same reference, and skips a same-reference order only when its content
  (payments, lines) is the same. An order for a closed session lands in a
  rescue session. Answers ``[{id, pos_reference}]`` (17: ``+ account_move``).
* 18+ ``sync_from_ui(orders)``: flat dicts keyed by ``uuid`` whose keys go
  straight into ``create`` (an unknown key is an error); a finalized resend is
  skipped and absent from the answer; a closed session's order moves to an
  open session of the same config or fails with a UserError. Answers a dict of
  lists keyed by model.
* Both: ``action_pos_order_paid`` failing (amounts not matching) is logged and
  swallowed, leaving the order in ``draft``, as Odoo does.
"""

from __future__ import annotations

import logging
from typing import Any

from .exceptions import UserError, ValidationError, missing_record
from .orm import Env, ModelSpec

log = logging.getLogger("odoo_emulator.pos")

OPEN_STATES = ("opening_control", "opened")
CURRENCY_ROUNDING = 0.01


def _is_zero(amount: float) -> bool:
    return abs(amount) < CURRENCY_ROUNDING / 2


def install(models: dict[str, ModelSpec]) -> None:
    """Attach the ``create`` overrides of the POS models to their declarations."""
    models["pos.session"].before_create = _session_before_create
    models["pos.session"].after_create = _session_after_create
    models["pos.order"].before_create = _order_before_create
    models["pos.order.line"].before_create = _line_before_create
    models["pos.payment"].before_create = _payment_before_create


# -- sessions ------------------------------------------------------------------


def _session_before_create(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    number = env.db.next_in_sequence("pos.session")
    name = f"POS/{number:05d}"
    if vals.get("name"):
        name = f"{name} {vals['name']}"
    return {**vals, "name": name}


def _session_after_create(env: Env, session_id: int) -> None:
    session = env.record("pos.session", session_id)
    config = env.record("pos.config", session["config_id"])
    session["payment_method_ids"] = list(config["payment_method_ids"])
    others = env.search(
        "pos.session",
        [
            ("state", "!=", "closed"),
            ("config_id", "=", config["id"]),
            ("rescue", "=", False),
        ],
    )
    if not session["rescue"] and len(others) > 1:
        raise ValidationError("Another session is already opened for this point of sale.")


def session_open(env: Env, ids: list[int]) -> bool:
    """``action_pos_session_open``: only sessions still in opening control are opened."""
    for sid in ids:
        if env.value("pos.session", sid, "state") == "opening_control":
            env.write("pos.session", [sid], {"state": "opened", "start_at": env.db.clock.now()})
    return True


def session_closing_control(env: Env, ids: list[int]) -> Any:
    """``action_pos_session_closing_control``: closes at once unless cash must be counted."""
    result: Any = True
    for sid in ids:
        session = env.record("pos.session", sid)
        drafts = env.search("pos.order", [("session_id", "=", sid), ("state", "=", "draft")])
        if drafts:
            raise UserError("You cannot close the POS when orders are still in draft")
        if session["state"] == "closed":
            raise UserError("This session is already closed.")
        env.write("pos.session", [sid], {"state": "closing_control", "stop_at": env.db.clock.now()})
        if not env.value("pos.config", session["config_id"], "cash_control"):
            result = session_close(env, [sid])
    return result


def session_close(env: Env, ids: list[int]) -> dict[str, Any]:
    """``action_pos_session_close``: validate the closing and mark the session closed."""
    for sid in ids:
        state = env.value("pos.session", sid, "state")
        if state == "closed":
            raise UserError("This session is already closed.")
        drafts = env.search("pos.order", [("session_id", "=", sid), ("state", "=", "draft")])
        if drafts:
            raise UserError("You cannot close the POS when orders are still in draft")
        env.write("pos.session", [sid], {"state": "closed"})
    return {"type": "ir.actions.client", "name": "Point of Sale Menu", "tag": "reload"}


def _valid_session_16(env: Env, closed_id: int, order_name: str) -> int:
    """Find or create the rescue session for an order whose session is closed (16/17)."""
    closed = env.record("pos.session", closed_id)
    log.warning(
        "session %s (ID: %s) was closed but received order %s belonging to it",
        closed["name"],
        closed_id,
        order_name,
    )
    rescue = env.search(
        "pos.session",
        [
            ("state", "not in", ("closed", "closing_control")),
            ("rescue", "=", True),
            ("config_id", "=", closed["config_id"]),
        ],
        limit=1,
    )
    if rescue:
        return rescue[0]
    new_id = env.create(
        "pos.session",
        {
            "config_id": closed["config_id"],
            "name": f"(RESCUE FOR {closed['name']})",
            "rescue": True,
        },
    )
    session_open(env, [new_id])
    return new_id


def _valid_session_18(env: Env, closed_id: int, order_name: str) -> int:
    """Move an order whose session is closed to an open one of the same config (18+)."""
    closed = env.record("pos.session", closed_id)
    log.warning(
        "Session %s (ID: %s) was closed but received order %s belonging to it",
        closed["name"],
        closed_id,
        order_name,
    )
    if env.version >= 19:
        state_leaf: tuple[str, str, Any] = ("state", "=", "opened")
    else:
        state_leaf = ("state", "not in", ("closed", "closing_control"))
    open_ids = env.search(
        "pos.session", [state_leaf, ("config_id", "=", closed["config_id"])], limit=1
    )
    if open_ids:
        return open_ids[0]
    raise UserError("No open session available. Please open a new session to capture the order.")


# -- order, line and payment create overrides -------------------------------------


def _order_before_create(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    """``_complete_values_from_session``: config, and the config's pricelist by default."""
    session = env.record("pos.session", vals["session_id"])
    config = env.record("pos.config", session["config_id"])
    vals = {**vals, "config_id": config["id"]}
    vals.setdefault("pricelist_id", config["pricelist_id"] or False)
    return vals


def _line_before_create(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    if not vals.get("name"):
        vals = {**vals, "name": f"Orderline {env.db.next_in_sequence('pos.order.line'):05d}"}
    return vals


def _payment_before_create(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    session_id = env.value("pos.order", vals["pos_order_id"], "session_id")
    return {**vals, "session_id": session_id}


def order_paid(env: Env, order_id: int) -> None:
    """``action_pos_order_paid``: refuse an order whose payments do not cover its total."""
    order = env.record("pos.order", order_id)
    if not _is_zero(order["amount_total"] - order["amount_paid"]):
        raise UserError(f"Order {order['name']} is not fully paid.")
    vals: dict[str, Any] = {"state": "paid"}
    if order["name"] == "/":
        config_name = env.value("pos.config", order["config_id"], "name")
        vals["name"] = f"{config_name}/{env.db.next_in_sequence('pos.order'):04d}"
    env.write("pos.order", [order_id], vals)


def _finalize(env: Env, order_id: int) -> None:
    # Odoo catches everything but database errors around action_pos_order_paid and
    # only logs it: the order stays in draft and the caller is told nothing.
    try:
        order_paid(env, order_id)
    except UserError as exc:
        log.error("Could not fully process the POS Order: %s", exc)


def _change_payment(env: Env, order_id: int, session_id: int, amount_return: float) -> None:
    cash = [
        pm
        for pm in env.value("pos.session", session_id, "payment_method_ids") or []
        if env.value("pos.payment.method", pm, "is_cash_count")
    ]
    if not cash:
        if env.version <= 16:
            raise UserError(
                "No cash payment method found for this session. Unable to record returned cash."
            )
        raise UserError("No cash statement found for this session. Unable to record returned cash.")
    env.create(
        "pos.payment",
        {
            "name": "return",
            "pos_order_id": order_id,
            "amount": -amount_return,
            "payment_method_id": cash[0],
            "is_change": True,
        },
    )


def _recompute_paid(env: Env, order_id: int) -> None:
    payments = env.search("pos.payment", [("pos_order_id", "=", order_id)])
    paid = sum(env.value("pos.payment", p, "amount") for p in payments)
    env.write("pos.order", [order_id], {"amount_paid": paid})


# -- 16/17: create_from_ui ---------------------------------------------------------


def create_from_ui(env: Env, orders: list[dict[str, Any]], draft: bool = False) -> Any:
    """``pos.order.create_from_ui`` of Odoo 16 and 17."""
    order_ids: list[int] = []
    for order in orders:
        data = order["data"]
        if env.version <= 16:
            existing: int | None = None
            if "server_id" in data:
                found = env.search(
                    "pos.order",
                    ["|", ("id", "=", data["server_id"]), ("pos_reference", "=", data["name"])],
                    limit=1,
                )
                existing = found[0] if found else None
            if existing is None or env.value("pos.order", existing, "state") == "draft":
                order_ids.append(_process_order_16(env, order, draft, existing))
            continue
        draft_order: int | None = None
        if data.get("server_id"):
            found = env.search(
                "pos.order",
                ["&", ("id", "=", data["server_id"]), ("state", "=", "draft")],
                limit=1,
            )
            if not found:
                continue
            draft_order = found[0]
        if draft_order is None:
            found = env.search(
                "pos.order",
                ["&", ("pos_reference", "=", data["name"]), ("state", "=", "draft")],
                limit=1,
            )
            draft_order = found[0] if found else None
        if draft_order is not None:
            order_ids.append(_process_order_16(env, order, draft, draft_order))
        else:
            same_ref = env.search("pos.order", [("pos_reference", "=", data["name"])])
            if all(not _is_the_same_order(env, data, oid) for oid in same_ref):
                order_ids.append(_process_order_16(env, order, draft, None))
    ids = env.search("pos.order", [("id", "in", order_ids)])
    if env.version <= 16:
        return env.read("pos.order", ids, ["id", "pos_reference"])
    return env.read("pos.order", ids, ["id", "pos_reference", "account_move"], load=None)


def _is_the_same_order(env: Env, data: dict[str, Any], order_id: int) -> bool:
    """17's ``_is_the_same_order``: same payments (amount, method) and same (product, price)."""
    existing_payments = [
        (env.value("pos.payment", p, "amount"), env.value("pos.payment", p, "payment_method_id"))
        for p in env.search("pos.payment", [("pos_order_id", "=", order_id)])
    ]
    for command in data["statement_ids"]:
        amount, method = command[2]["amount"], command[2]["payment_method_id"]
        if not any(_is_zero(amount - a) and method == m for a, m in existing_payments):
            return False
    line_ids = env.search("pos.order.line", [("order_id", "=", order_id)])
    if len(data["lines"]) != len(line_ids):
        return False
    received = sorted((c[2]["product_id"], c[2]["price_unit"]) for c in data["lines"])
    existing = sorted(
        (env.value("pos.order.line", i, "product_id"), env.value("pos.order.line", i, "price_unit"))
        for i in line_ids
    )
    return received == existing


def _order_fields_16(env: Env, ui: dict[str, Any]) -> dict[str, Any]:
    """``_order_fields``: the keys Odoo takes from the POS order; others are ignored."""
    session_id = ui["pos_session_id"]
    lines = [_order_line_fields(env, line, session_id) for line in ui["lines"]]
    vals: dict[str, Any] = {
        "user_id": ui["user_id"] or False,
        "session_id": session_id,
        "lines": lines or False,
        "pos_reference": ui["name"],
        "sequence_number": ui["sequence_number"],
        "partner_id": ui["partner_id"] or False,
        "fiscal_position_id": ui["fiscal_position_id"],
        "amount_paid": ui["amount_paid"],
        "amount_total": ui["amount_total"],
        "amount_tax": ui["amount_tax"],
        "amount_return": ui["amount_return"],
        "to_invoice": ui.get("to_invoice", False),
        "is_tipped": ui.get("is_tipped", False),
        "tip_amount": ui.get("tip_amount", 0),
        "access_token": ui.get("access_token", ""),
    }
    if env.version <= 16:
        vals["date_order"] = ui["creation_date"].replace("T", " ")[:19]
        vals["pricelist_id"] = ui["pricelist_id"]
        vals["to_ship"] = ui.get("to_ship", False)
    else:
        vals["date_order"] = ui["date_order"].replace("T", " ")[:19]
        vals["pricelist_id"] = ui.get("pricelist_id")
        vals["shipping_date"] = ui.get("shipping_date")
        vals["ticket_code"] = ui.get("ticket_code")
        vals["last_order_preparation_change"] = ui.get("last_order_preparation_change")
    return vals


def _order_line_fields(env: Env, line: list[Any], session_id: int) -> list[Any]:
    """``pos.order.line._order_line_fields``: default taxes from the product, drop junk keys."""
    vals = dict(line[2])
    if "tax_ids" not in vals:
        product_id = vals["product_id"]
        if not env.exists("product.product", product_id):
            raise missing_record("product.product", [product_id], env.uid)
        taxes = env.value("product.product", product_id, "taxes_id") or []
        vals["tax_ids"] = [[6, 0, list(taxes)]]
    known = env.spec("pos.order.line").fields
    vals = {k: v for k, v in vals.items() if k in known and k != "id"}
    return [line[0], line[1], vals]


def _process_order_16(env: Env, order: dict[str, Any], draft: bool, existing: int | None) -> int:
    data = order["data"]
    session_id = data["pos_session_id"]
    state = env.value("pos.session", session_id, "state")
    if state in ("closing_control", "closed"):
        data["pos_session_id"] = _valid_session_16(env, session_id, data["name"])
    if existing is None:
        order_id = env.create("pos.order", _order_fields_16(env, data))
    else:
        order_id = existing
        lines = env.search("pos.order.line", [("order_id", "=", order_id)])
        env.unlink("pos.order.line", lines)
        data["user_id"] = env.value("pos.order", order_id, "user_id")
        env.write("pos.order", [order_id], _order_fields_16(env, data))
    # _process_payment_lines: the payments sent replace the ones stored.
    env.unlink("pos.payment", env.search("pos.payment", [("pos_order_id", "=", order_id)]))
    for command in data["statement_ids"]:
        payment = command[2]
        env.create(
            "pos.payment",
            {
                "amount": payment["amount"] or 0.0,
                "payment_date": payment["name"],
                "payment_method_id": payment["payment_method_id"],
                "card_type": payment.get("card_type"),
                "cardholder_name": payment.get("cardholder_name"),
                "transaction_id": payment.get("transaction_id"),
                "payment_status": payment.get("payment_status"),
                "ticket": payment.get("ticket"),
                "pos_order_id": order_id,
            },
        )
    _recompute_paid(env, order_id)
    if not draft and not _is_zero(data["amount_return"]):
        _change_payment(env, order_id, session_id, data["amount_return"])
        _recompute_paid(env, order_id)
    if not draft:
        _finalize(env, order_id)
    return order_id


# -- 18+: sync_from_ui ----------------------------------------------------------------


def sync_from_ui(env: Env, orders: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """``pos.order.sync_from_ui`` of Odoo 18 and later."""
    order_ids: list[int] = []
    session_ids = {order.get("session_id") for order in orders}
    for order in orders:
        found = env.search("pos.order", [("uuid", "=", order.get("uuid"))], limit=1)
        existing = found[0] if found else None
        if len(_refunded_orders(env, order)) > 1:
            raise ValidationError("You can only refund products from the same order.")
        if existing is not None and env.value("pos.order", existing, "state") == "draft":
            order_ids.append(_process_order_18(env, order, existing))
        elif existing is None:
            order_ids.append(_process_order_18(env, order, None))
        elif env.db.options.get("sync_returns_existing"):
            # Later 18.x/19 patch releases answer with the order already there.
            order_ids.append(existing)
        else:
            log.warning("PoS synchronisation unprocessed order %s", order.get("uuid"))
    if not order_ids:
        return {model: [] for model in _SYNC_MODELS}
    new_session = any(order.get("session_id") not in session_ids for order in orders)
    line_ids = env.search("pos.order.line", [("order_id", "in", order_ids)])
    payment_ids = env.search("pos.payment", [("pos_order_id", "in", order_ids)])
    sessions = sorted({env.value("pos.order", oid, "session_id") for oid in order_ids})
    return {
        "pos.order": env.read("pos.order", order_ids, None, load=None),
        "pos.session": env.read("pos.session", sessions, None, load=None) if new_session else [],
        "pos.payment": env.read("pos.payment", payment_ids, None, load=None),
        "pos.order.line": env.read("pos.order.line", line_ids, None, load=None),
        "pos.pack.operation.lot": [],
        "product.attribute.custom.value": [],
    }


_SYNC_MODELS = (
    "pos.order",
    "pos.session",
    "pos.payment",
    "pos.order.line",
    "pos.pack.operation.lot",
    "product.attribute.custom.value",
)


def _refunded_orders(env: Env, order: dict[str, Any]) -> set[int]:
    refunded: set[int] = set()
    for command in order.get("lines") or []:
        if command[0] in (0, 1) and command[2].get("refunded_orderline_id"):
            line_id = command[2]["refunded_orderline_id"]
            refunded.add(env.value("pos.order.line", line_id, "order_id"))
    return refunded


def _process_order_18(env: Env, order: dict[str, Any], existing: int | None) -> int:
    draft = order.get("state") == "draft"
    session_id = order["session_id"]
    if env.value("pos.session", session_id, "state") in ("closing_control", "closed"):
        order["session_id"] = _valid_session_18(env, session_id, order.get("name", ""))
    partner = order.get("partner_id")
    if partner and not env.exists("res.partner", partner):
        order.update(partner_id=False, to_invoice=False)
    if existing is None:
        if order.get("state"):
            order["state"] = "draft"
        vals = {k: v for k, v in order.items() if k != "name"}
        order_id = env.create("pos.order", {**vals, "pos_reference": order.get("name")})
    else:
        order_id = existing
        for fname in ("lines", "payment_ids"):
            if order.get(fname):
                env.write("pos.order", [order_id], {fname: order[fname]})
                order[fname] = []
        env.write("pos.order", [order_id], order)
    # _process_payment_lines: amount_paid is recomputed, "because we don't trust the client".
    _recompute_paid(env, order_id)
    if not draft and not _is_zero(order.get("amount_return") or 0.0):
        _change_payment(env, order_id, session_id, order["amount_return"])
        _recompute_paid(env, order_id)
    if not draft:
        _finalize(env, order_id)
    return order_id
