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
* ``action_pos_order_paid`` (``_is_pos_order_paid``: the total, rounded by the
  config's cash rounding in ``_get_rounded_amount``, must equal what was paid)
  failing is, per version, what ``_process_order``/``_process_saved_order`` make
  of it: 16/17 log it and leave the order in ``draft`` (and still answer it);
  18 logs it and the order keeps the ``state`` the payload claimed (created
  with it, and named by ``_complete_values_from_session`` if that was
  ``paid``); 19 lets the UserError through, so the whole call fails.
* 18+ recompute ``amount_tax``/``amount_total`` from the lines
  (``pos.order._compute_prices``, via ``_process_payment_lines``): the totals a
  client sends are not kept.
* 18+ resending an order held as draft runs ``del order['uuid']; del
  order['access_token']`` (``_process_order``): without ``access_token`` that is
  a KeyError and the call fails.
* 19 ``create`` drops ``name`` and keeps ``pos_reference`` only when sent
  (``_complete_values_from_session`` makes its own only when ``pos_reference``,
  ``sequence_number`` and ``tracking_number`` are all missing); 18 sets
  ``pos_reference`` from ``name``. 19 answers a resent finalized order with
  the order (``sync_from_ui``: "sync ignored for existing PoS order").
* ``pos.payment._check_payment_method_id``: a payment's method must be one of
  its session's config's ``payment_method_ids``.
* 16/17 ``export_for_ui`` (what the POS screens load orders with) runs
  ``re.search('([0-9-]){14}', order.pos_reference).group(0)``: a reference
  without 14 digits-or-dashes in a row fails with an AttributeError.
"""

from __future__ import annotations

import logging
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
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
    """``pos_session.py`` ``create``: the name is the ``pos.session`` sequence, then any
    name the caller gave after a space."""
    number = env.db.next_in_sequence("pos.session")
    name = f"POS/{number:05d}"
    if vals.get("name"):
        name = f"{name} {vals['name']}"
    return {**vals, "name": name}


def _session_after_create(env: Env, session_id: int) -> None:
    """``pos_session.py``: ``payment_method_ids`` is the config's (a related field, here
    copied once), and ``_check_pos_config`` refuses a second unclosed non-rescue session."""
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
    """``action_pos_session_open``: what it does to a session still in opening control.

    16/17: opened at once, unless the config counts cash (and the session is no
    rescue): then it takes the last session's counted cash as its opening
    balance and waits in ``opening_control`` for the opening count
    (``set_cashbox_pos`` 16, ``set_opening_control`` 17). 18+: the state is left
    alone (only the opening balance is set): ``set_opening_control`` opens it.
    """
    for sid in ids:
        session = env.record("pos.session", sid)
        if session["state"] != "opening_control":
            continue
        vals: dict[str, Any] = {}
        if not session["start_at"]:
            vals["start_at"] = env.db.clock.now()
        config = env.record("pos.config", session["config_id"])
        if config["cash_control"] and not session["rescue"]:
            vals["cash_register_balance_start"] = _last_counted_cash(env, session)
        elif env.version <= 17:
            vals["state"] = "opened"
        env.write("pos.session", [sid], vals)
    return True


def _last_counted_cash(env: Env, session: dict[str, Any]) -> float:
    """``action_pos_session_open``: the newest other session of the config (``_order`` is
    ``id desc``), its ``cash_register_balance_end_real``; 0 when there is none."""
    previous = [
        i
        for i in env.search("pos.session", [("config_id", "=", session["config_id"])])
        if i != session["id"]
    ]
    if not previous:
        return 0.0
    return float(env.value("pos.session", previous[0], "cash_register_balance_end_real") or 0.0)


def set_opening_control(env: Env, ids: list[int], cashbox_value: float, notes: str) -> Any:
    """``set_opening_control`` (17+; ``set_cashbox_pos`` in 16): the opening count, and open.

    ``pos_session.py``: ``set_opening_control(self, cashbox_value: int, notes: str)``,
    ``notes`` without a default, so a call without it fails (a TypeError)."""
    for sid in ids:
        vals: dict[str, Any] = {"state": "opened"}
        config_id = env.value("pos.session", sid, "config_id")
        if _cash_method(env, config_id) is not None:
            vals["cash_register_balance_start"] = float(cashbox_value)
        env.write("pos.session", [sid], vals)
    return None


def post_closing_cash_details(env: Env, ids: list[int], counted_cash: float) -> dict[str, Any]:
    """``post_closing_cash_details``: record the counted cash the closing will compare.

    ``pos_session.py``: first ``_cannot_close_session``, whose refusal is answered
    (not raised) and leaves the counted cash unrecorded.
    """
    (sid,) = ids  # ensure_one
    refusal = _cannot_close_session(env, sid)
    if refusal is not None:
        return refusal
    if _cash_method(env, env.value("pos.session", sid, "config_id")) is None:
        raise UserError("There is no cash register in this session.")
    env.write("pos.session", [sid], {"cash_register_balance_end_real": float(counted_cash)})
    return {"successful": True}


def _cannot_close_session(env: Env, session_id: int) -> dict[str, Any] | None:
    """``pos.session._cannot_close_session``: draft orders, or a session already closed."""
    if env.search("pos.order", [("session_id", "=", session_id), ("state", "=", "draft")]):
        return {
            "successful": False,
            "message": "You cannot close the POS when orders are still in draft",
            "redirect": False,
        }
    if env.value("pos.session", session_id, "state") == "closed":
        return {
            "successful": False,
            "type": "alert",
            "title": "Session already closed",
            "message": "The session has been already closed by another User. "
            "All sales completed in the meantime have been saved in a "
            "Rescue Session, which can be reviewed anytime and posted "
            "to Accounting from Point of Sale's dashboard.",
            "redirect": True,
        }
    return None


def _cash_method(env: Env, config_id: int) -> int | None:
    """The session's cash method, as ``pos.session._compute_cash_journal`` finds its
    ``cash_journal_id``: the first ``is_cash_count`` method's journal, none if that method
    has no journal (Odoo does not look further). Without one, the session has no cash
    control (``_compute_cash_control``) and ``post_closing_cash_details`` raises "There is
    no cash register in this session." (``pos_session.py``, Odoo 16-18)."""
    for method in env.value("pos.config", config_id, "payment_method_ids") or []:
        if env.value("pos.payment.method", method, "is_cash_count"):
            journal = env.value("pos.payment.method", method, "journal_id")
            return int(method) if journal else None
    return None


def session_closing_control(env: Env, ids: list[int]) -> Any:
    """``action_pos_session_closing_control``: closes at once, or validates the cash count.

    Without cash control it closes (``action_pos_session_close``); with it, it
    validates the closing against the counted cash (``action_pos_session_validate``).
    """
    result: Any = True
    for sid in ids:
        session = env.record("pos.session", sid)
        drafts = env.search("pos.order", [("session_id", "=", sid), ("state", "=", "draft")])
        if drafts:
            raise UserError("You cannot close the POS when orders are still in draft")
        if session["state"] == "closed":
            raise UserError("This session is already closed.")
        env.write("pos.session", [sid], {"state": "closing_control", "stop_at": env.db.clock.now()})
        result = session_close(env, [sid])
    return result


def session_close(env: Env, ids: list[int]) -> dict[str, Any]:
    """``action_pos_session_close`` → ``_validate_session``: book the cash difference, close.

    The counted cash (``cash_register_balance_end_real``) minus the expected
    (opening balance plus the cash taken) is booked on the cash journal's loss
    or profit account; without one, ``_validate_session`` raises a UserError and
    the whole call is undone: the session stays as it was. A closing entry
    that does not balance answers the "Force Close Session" wizard
    (``pos.close.session.wizard``) and the session stays in closing control.
    """
    for sid in ids:
        session = env.record("pos.session", sid)
        if session["state"] == "closed":
            raise UserError("This session is already closed.")
        drafts = env.search("pos.order", [("session_id", "=", sid), ("state", "=", "draft")])
        if drafts:
            # _validate_session -> _check_if_no_draft_orders (pos_session.py), whose text
            # differs from action_pos_session_closing_control's.
            names = ", ".join(str(env.value("pos.order", o, "name")) for o in drafts)
            raise UserError(
                "There are still orders in draft state in the session. "
                f"Pay or cancel the following orders to validate the session:\n{names}"
            )
        config = env.record("pos.config", session["config_id"])
        cash = _cash_method(env, config["id"])
        if config["cash_control"] and cash is not None:
            difference = session["cash_register_balance_end_real"] - _expected_cash(env, sid, cash)
            if not _is_zero(difference):
                journal_id = env.value("pos.payment.method", cash, "journal_id")
                journal = env.record("account.journal", journal_id) if journal_id else None
                which = "loss_account_id" if difference < 0 else "profit_account_id"
                if journal is None or not journal[which]:
                    kind = "Loss" if difference < 0 else "Profit"
                    name = journal["name"] if journal else "cash"
                    raise UserError(
                        f"Please go on the {name} journal and define a {kind} Account. "
                        "This account will be used to record cash difference."
                    )
        # The emulator books no journal entries, so it cannot find an unbalanced one
        # itself: a test that needs Odoo's answer to one sets this option
        # (pos_session.py, _validate_session: "Force Close Session").
        if env.db.options.get("unbalanced_closing"):
            return {
                "name": "Force Close Session",
                "type": "ir.actions.act_window",
                "res_model": "pos.close.session.wizard",
                "view_mode": "form",
                "target": "new",
            }
        env.write("pos.session", [sid], {"state": "closed"})
    return {"type": "ir.actions.client", "name": "Point of Sale Menu", "tag": "reload"}


def _expected_cash(env: Env, session_id: int, cash_method: int) -> float:
    """``pos_session.py`` ``_compute_cash_balance``: the opening balance plus the cash
    payments (``cash_register_balance_end``); the emulator has no cash in/out lines."""
    payments = env.search(
        "pos.payment", [("session_id", "=", session_id), ("payment_method_id", "=", cash_method)]
    )
    taken = sum(env.value("pos.payment", p, "amount") for p in payments)
    return float(env.value("pos.session", session_id, "cash_register_balance_start") or 0.0) + taken


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
    """``_complete_values_from_session``: config, the config's pricelist by default, and
    a name from the config's sequence for an order created as ``paid`` (before
    ``action_pos_order_paid`` has checked anything)."""
    session = env.record("pos.session", vals["session_id"])
    config = env.record("pos.config", session["config_id"])
    vals = {**vals, "config_id": config["id"]}
    vals.setdefault("pricelist_id", config["pricelist_id"] or False)
    if vals.get("state") == "paid" and not vals.get("name"):
        vals["name"] = f"{config['name']}/{env.db.next_in_sequence('pos.order'):04d}"
    return vals


def _line_before_create(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    if not vals.get("name"):
        vals = {**vals, "name": f"Orderline {env.db.next_in_sequence('pos.order.line'):05d}"}
    return vals


def _payment_before_create(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    session_id = env.value("pos.order", vals["pos_order_id"], "session_id")
    # pos_payment.py _check_payment_method_id: the method must be on the session's config.
    config_id = env.value("pos.session", session_id, "config_id")
    allowed = env.value("pos.config", config_id, "payment_method_ids") or []
    if vals.get("payment_method_id") not in allowed:
        raise ValidationError(
            "The payment method selected is not allowed in the config of the POS session."
        )
    return {**vals, "session_id": session_id}


_ROUNDING = {"HALF-UP": ROUND_HALF_UP, "UP": ROUND_CEILING, "DOWN": ROUND_FLOOR}


def _rounded_amount(env: Env, order: dict[str, Any]) -> float:
    """``pos.order._get_rounded_amount``: the total rounded by the config's cash rounding.

    Applied when the config rounds and either rounds every method or the order
    has a cash payment (``only_round_cash_method``).
    """
    amount = Decimal(repr(order["amount_total"]))
    config = env.record("pos.config", order["config_id"])
    if config["cash_rounding"] and config["rounding_method"]:
        methods = [
            env.value("pos.payment", p, "payment_method_id")
            for p in env.search("pos.payment", [("pos_order_id", "=", order["id"])])
        ]
        has_cash = any(env.value("pos.payment.method", m, "is_cash_count") for m in methods)
        if not config["only_round_cash_method"] or has_cash:
            rounding = env.record("account.cash.rounding", config["rounding_method"])
            step = Decimal(repr(rounding["rounding"]))
            steps = (amount / step).quantize(Decimal(1), _ROUNDING[rounding["rounding_method"]])
            amount = steps * step
    return float(amount.quantize(Decimal("0.01"), ROUND_HALF_UP))


def order_paid(env: Env, order_id: int) -> None:
    """``action_pos_order_paid``: refuse an order whose payments do not cover its total.

    The total is rounded by the config's cash rounding (``_get_rounded_amount``);
    when that alone makes it differ, the unrounded total may still differ from
    what was paid by up to half a rounding step (HALF-UP) or one step.
    """
    order = env.record("pos.order", order_id)
    paid = order["amount_paid"]
    if not _is_zero(_rounded_amount(env, order) - paid):
        config = env.record("pos.config", order["config_id"])
        if not (config["cash_rounding"] and config["rounding_method"]):
            raise UserError(f"Order {order['name']} is not fully paid.")
        rounding = env.record("account.cash.rounding", config["rounding_method"])
        step = Decimal(repr(rounding["rounding"]))
        if rounding["rounding_method"] == "HALF-UP":
            step /= 2
        cent = Decimal("0.01")
        max_diff = step.quantize(cent, ROUND_HALF_UP)
        diff = (Decimal(repr(order["amount_total"])) - Decimal(repr(paid))).quantize(cent)
        if abs(diff) > max_diff:
            raise UserError(f"Order {order['name']} is not fully paid.")
    vals: dict[str, Any] = {"state": "paid"}
    if order["name"] == "/":
        config_name = env.value("pos.config", order["config_id"], "name")
        vals["name"] = f"{config_name}/{env.db.next_in_sequence('pos.order'):04d}"
    env.write("pos.order", [order_id], vals)


def _finalize(env: Env, order_id: int) -> None:
    # 16-18 catch everything but database errors around action_pos_order_paid and
    # only log it (16/17 _process_order, 18 _process_saved_order): the order
    # keeps the state it has (16/17: draft; 18: what the payload said) and the
    # caller is told nothing. 19 lets the UserError fail the whole call.
    if env.version >= 19:
        order_paid(env, order_id)
        return
    try:
        order_paid(env, order_id)
    except UserError as exc:
        log.error("Could not fully process the POS Order: %s", exc)


def _change_payment(env: Env, order_id: int, session_id: int, amount_return: float) -> None:
    """``pos_order.py`` ``_process_payment_lines``: the change given is a negative
    ``return`` payment on the session's first ``is_cash_count`` method, or a UserError."""
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


def compute_prices(env: Env, order_id: int) -> None:
    """18+ ``pos.order._compute_prices``: ``amount_tax`` and ``amount_total`` from the lines.

    Each line through its taxes (``account.tax._add_tax_details_in_base_lines``,
    rounded per line): group taxes stand for their children, price-included
    percent taxes are taken out of the price, an ``include_base_amount`` tax
    adds itself to the base of the taxes after it.
    """
    total = tax_total = Decimal(0)
    for line_id in env.search("pos.order.line", [("order_id", "=", order_id)]):
        line = env.record("pos.order.line", line_id)
        untaxed, tax = _line_amounts(env, line)
        total += untaxed + tax
        tax_total += tax
    config = env.record("pos.config", env.value("pos.order", order_id, "config_id"))
    if config["cash_rounding"] and not config["only_round_cash_method"]:
        # _get_tax_totals_summary(cash_rounding=config.rounding_method): the total is rounded.
        total = Decimal(
            repr(
                _rounded_amount(
                    env, {"id": order_id, "amount_total": float(total), "config_id": config["id"]}
                )
            )
        )
    env.write(
        "pos.order", [order_id], {"amount_tax": float(tax_total), "amount_total": float(total)}
    )


def _flat_taxes(env: Env, tax_ids: list[int]) -> list[dict[str, Any]]:
    taxes: list[dict[str, Any]] = []
    for tax_id in tax_ids:
        tax = env.record("account.tax", tax_id)
        if tax["amount_type"] == "group":
            taxes += _flat_taxes(env, list(tax["children_tax_ids"] or []))
        else:
            included = env.read("account.tax", [tax_id], ["price_include"])[0]["price_include"]
            taxes.append({**tax, "price_include": included})
    return sorted(taxes, key=lambda t: (t["sequence"] or 0, t["id"]))


def _line_amounts(env: Env, line: dict[str, Any]) -> tuple[Decimal, Decimal]:
    cent = Decimal("0.01")
    qty = Decimal(repr(line["qty"]))
    gross = Decimal(repr(line["price_unit"])) * qty * (1 - Decimal(repr(line["discount"])) / 100)
    taxes = _flat_taxes(env, list(line["tax_ids"] or []))
    included = sum((Decimal(repr(t["amount"])) for t in taxes if t["price_include"]), Decimal(0))
    untaxed = (gross / (1 + included / 100)).quantize(cent, ROUND_HALF_UP)
    tax_total = gross.quantize(cent, ROUND_HALF_UP) - untaxed
    base = untaxed
    for tax in taxes:
        if tax["price_include"]:
            continue
        rate = Decimal(repr(tax["amount"]))
        amount = rate * qty if tax["amount_type"] == "fixed" else base * rate / 100
        amount = amount.quantize(cent, ROUND_HALF_UP)
        tax_total += amount
        if tax["include_base_amount"]:
            base += amount
    return untaxed, tax_total


def export_for_ui(env: Env, ids: list[int]) -> list[dict[str, Any]]:
    """16/17 ``pos.order.export_for_ui`` → ``_export_for_ui``: how the POS screens load an order."""
    result = []
    for order_id in ids:
        order = env.record("pos.order", order_id)
        reference = order["pos_reference"] or ""
        # ``re.search(...).group(0)``: None has no attribute 'group'.
        match = re.search("([0-9-]){14}", reference)
        if match is None:
            raise AttributeError("'NoneType' object has no attribute 'group'")
        result.append(
            {
                "id": order_id,
                "name": reference,
                "uid": match.group(0),
                "amount_total": order["amount_total"],
                "state": order["state"],
            }
        )
    return result


def _recompute_paid(env: Env, order_id: int) -> None:
    """``pos_order.py`` ``_process_payment_lines``: ``amount_paid`` is the sum of the
    order's payments, whatever the client said."""
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
        elif env.version >= 19 or env.db.options.get("sync_returns_existing"):
            # 19 (and later 18.x patch releases) answer with the order already
            # there: "sync ignored for existing PoS order".
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
        # The order is created with the state it claims: a "paid" order that
        # action_pos_order_paid then refuses stays "paid" on 18.
        vals = {k: v for k, v in order.items() if k != "name"}
        if env.version <= 18:
            vals["pos_reference"] = order.get("name")
        order_id = env.create("pos.order", vals)
    else:
        order_id = existing
        for fname in ("lines", "payment_ids"):
            if order.get(fname):
                env.write("pos.order", [order_id], {fname: order[fname]})
                order[fname] = []
        del order["uuid"]
        del order["access_token"]  # KeyError when the client did not send one
        env.write("pos.order", [order_id], order)
    # _process_payment_lines: amount_paid is recomputed, "because we don't trust the client".
    _recompute_paid(env, order_id)
    if not draft and not _is_zero(order.get("amount_return") or 0.0):
        _change_payment(env, order_id, session_id, order["amount_return"])
        _recompute_paid(env, order_id)
    compute_prices(env, order_id)
    if not draft:
        _finalize(env, order_id)
    return order_id
