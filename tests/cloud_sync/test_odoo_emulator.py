"""The emulator answers as Odoo does: the wire format, a third-party client, POS quirks.

These keep the emulator honest, so that the client tests prove something
about Odoo and not about a convenient fake.
"""

from __future__ import annotations

from typing import Any

import httpx
import odoolib
import pytest

from cloud_sync.payloads import order_payload
from tests.cloud_sync.shop import hub_order, refs_for
from tests.odoo_emulator import OdooEmulator
from tests.support import local_http


def jsonrpc(emulator: OdooEmulator, service: str, method: str, *args: Any) -> httpx.Response:
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 42,
        "params": {"service": service, "method": method, "args": list(args)},
    }
    return local_http.post(f"{emulator.url}/jsonrpc", json=body)


def execute_kw(emulator: OdooEmulator, model: str, method: str, *args: Any, **kw: Any) -> Any:
    seed = emulator.seed
    assert seed is not None
    response = jsonrpc(
        emulator,
        "object",
        "execute_kw",
        emulator.dbname,
        seed.uid,
        seed.api_key,
        model,
        method,
        list(args),
        kw,
    )
    return response.json()


def test_jsonrpc_business_error_is_http_200_with_odoos_envelope(
    odoo_emulator: OdooEmulator,
) -> None:
    """Clients tell a refusal from an outage by this envelope, so it must be Odoo's exactly."""
    seed = odoo_emulator.seed
    assert seed is not None
    response = jsonrpc(
        odoo_emulator,
        "object",
        "execute_kw",
        odoo_emulator.dbname,
        seed.uid,
        seed.api_key,
        "no.such.model",
        "search_read",
        [[]],
        {},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == 42 and "result" not in body
    error = body["error"]
    assert (error["code"], error["message"]) == (200, "Odoo Server Error")
    assert set(error["data"]) == {"name", "message", "arguments", "context", "debug"}
    assert error["data"]["name"] == "odoo.exceptions.UserError"
    assert error["data"]["message"] == "Object no.such.model doesn't exist"
    assert error["data"]["arguments"] == ["Object no.such.model doesn't exist"]


def test_jsonrpc_login_with_a_wrong_password_answers_false(odoo_emulator: OdooEmulator) -> None:
    """common.login and authenticate return false, not an error, on bad credentials."""
    seed = odoo_emulator.seed
    assert seed is not None
    for method, extra in (("login", ()), ("authenticate", ({},))):
        response = jsonrpc(
            odoo_emulator, "common", method, odoo_emulator.dbname, seed.login, "x", *extra
        )
        assert response.status_code == 200
        assert response.json() == {"jsonrpc": "2.0", "id": 42, "result": False}


def test_jsonrpc_object_call_with_a_wrong_password_is_access_denied(
    odoo_emulator: OdooEmulator,
) -> None:
    """The object service refuses bad credentials with AccessDenied and no traceback."""
    seed = odoo_emulator.seed
    assert seed is not None
    body = jsonrpc(
        odoo_emulator,
        "object",
        "execute_kw",
        odoo_emulator.dbname,
        seed.uid,
        "wrong",
        "res.partner",
        "search",
        [[]],
    ).json()
    data = body["error"]["data"]
    assert (data["name"], data["message"]) == ("odoo.exceptions.AccessDenied", "Access Denied")
    assert "Traceback" not in data["debug"]


def test_read_by_id_sees_archived_records_that_search_hides(odoo_emulator: OdooEmulator) -> None:
    """active only filters searches; a read by id still returns an archived record."""
    seed = odoo_emulator.seed
    assert seed is not None
    water = seed.products["WATER"]
    odoo_emulator.write("product.product", [water], {"active": False})
    found = execute_kw(odoo_emulator, "product.product", "search", [("id", "=", water)])
    read = execute_kw(odoo_emulator, "product.product", "read", [water], ["active"])
    assert found["result"] == []
    assert read["result"] == [{"id": water, "active": False}]


def test_unknown_route_is_the_html_404_page(odoo_emulator: OdooEmulator) -> None:
    """Before 19 there is no /web/version; a client must cope with Odoo's HTML 404."""
    response = local_http.get(f"{odoo_emulator.url}/web/version")
    if odoo_emulator.version >= 19:
        assert response.json() == {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}
    else:
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")


JSON2_CASES = [
    ("no key", "res.users", "context_get", {}, None, 401, "werkzeug.exceptions.Unauthorized"),
    (
        "unknown model",
        "no.model",
        "search",
        {"domain": []},
        "",
        404,
        "werkzeug.exceptions.NotFound",
    ),
    ("unknown method", "pos.order", "nope", {}, "", 404, "werkzeug.exceptions.NotFound"),
    (
        "ids on a model method",
        "pos.order",
        "search",
        {"ids": [1], "domain": []},
        "",
        422,
        "werkzeug.exceptions.UnprocessableEntity",
    ),
    (
        "unknown parameter",
        "pos.order",
        "search",
        {"domain": [], "bogus": 1},
        "",
        422,
        "werkzeug.exceptions.UnprocessableEntity",
    ),
    ("private method", "pos.order", "_process_order", {}, "", 403, "odoo.exceptions.AccessError"),
    (
        "missing record",
        "res.partner",
        "write",
        {"ids": [999], "vals": {"name": "x"}},
        "",
        404,
        "odoo.exceptions.MissingError",
    ),
    (
        "business refusal",
        "pos.session",
        "action_pos_session_close",
        {"ids": [1]},
        "",
        422,
        "odoo.exceptions.UserError",
    ),
]


@pytest.mark.parametrize(
    ("model", "method", "params", "key", "status", "name"),
    [case[1:] for case in JSON2_CASES],
    ids=[case[0] for case in JSON2_CASES],
)
def test_json2_errors_have_real_statuses_and_serialized_bodies(
    model: str, method: str, params: dict[str, Any], key: str | None, status: int, name: str
) -> None:
    """On 19 the status code is the error class; the body is Odoo's serialize_exception."""
    with OdooEmulator(19) as emulator:
        seed = emulator.seed
        assert seed is not None
        if model == "pos.session":
            emulator.set_session_state(seed.session_id, "closed")
        headers = {"X-Odoo-Database": emulator.dbname}
        if key is not None:
            headers["Authorization"] = f"bearer {key or seed.api_key}"
        response = local_http.post(
            f"{emulator.url}/json/2/{model}/{method}", json=params, headers=headers
        )
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"name", "message", "arguments", "context", "debug"}
    assert body["name"] == name


def test_odoolib_sees_the_jsonrpc_surface_as_odoo(odoo_emulator: OdooEmulator) -> None:
    """Odoo's own client library logs in, reads and gets errors from the emulator unchanged."""
    seed = odoo_emulator.seed
    assert seed is not None
    port = int(odoo_emulator.url.rsplit(":", 1)[1])

    def connect(password: str) -> Any:
        return odoolib.get_connection(
            hostname="127.0.0.1",
            protocol="jsonrpc",
            port=port,
            database=odoo_emulator.dbname,
            login=seed.login,
            password=password,
        )

    connection = connect(seed.api_key)
    connection.check_login()
    assert connection.user_id == seed.uid
    products = connection.get_model("product.product")
    rows = products.search_read([("lst_price", ">", 2)], ["name", "lst_price"])
    assert sorted((r["name"], r["lst_price"]) for r in rows) == [
        ("Burger", 10.0),
        ("Cola", 2.5),
        ("Fries", 3.5),
    ]
    assert connection.get_model("res.users").context_get()["uid"] == seed.uid
    with pytest.raises(odoolib.tools.JsonRPCException) as caught:
        connection.get_model("no.such.model").search([])
    assert caught.value.error["data"]["name"] == "odoo.exceptions.UserError"
    with pytest.raises(odoolib.tools.AuthenticationError):
        connect("wrong").check_login()


def test_odoolib_json2_reads_from_odoo_19() -> None:
    """The JSON-2 surface answers Odoo's client library too, by bearer key."""
    with OdooEmulator(19) as emulator:
        seed = emulator.seed
        assert seed is not None
        port = int(emulator.url.rsplit(":", 1)[1])
        connection = odoolib.get_connection(
            hostname="127.0.0.1",
            protocol="json2",
            port=port,
            database=emulator.dbname,
            password=seed.api_key,
        )
        assert connection.check_login() is True
        rows = connection.get_model("pos.payment.method").search_read(domain=[], fields=["name"])
        assert [row["name"] for row in rows] == ["Cash", "Card"]


def _create_from_ui(emulator: OdooEmulator, payloads: list[dict[str, Any]]) -> Any:
    return execute_kw(emulator, "pos.order", "create_from_ui", payloads)


def test_odoo16_dedupes_only_when_the_server_id_key_is_present() -> None:
    """Odoo 16 duplicates a resend without server_id; our payload must always carry it."""
    with OdooEmulator(16) as emulator:
        payload = order_payload(hub_order(1, {"BURGER": 1}), refs_for(emulator), 16)
        bare = {**payload, "data": {k: v for k, v in payload["data"].items() if k != "server_id"}}
        _create_from_ui(emulator, [payload])
        _create_from_ui(emulator, [payload])
        assert len(emulator.orders()) == 1
        _create_from_ui(emulator, [bare])
        assert len(emulator.orders()) == 2


def test_odoo17_same_reference_with_other_content_creates_a_second_order() -> None:
    """17 skips a same-reference order only if its content matches: never reuse a reference."""
    with OdooEmulator(17) as emulator:
        refs = refs_for(emulator)
        first = hub_order(1, {"BURGER": 1})
        other = {**hub_order(2, {"FRIES": 2}), "uuid": first["uuid"]}
        assert len(_create_from_ui(emulator, [order_payload(first, refs, 17)])["result"]) == 1
        assert _create_from_ui(emulator, [order_payload(first, refs, 17)])["result"] == []
        assert len(_create_from_ui(emulator, [order_payload(other, refs, 17)])["result"]) == 1
        assert len(emulator.orders()) == 2


def test_an_order_not_fully_paid_is_kept_as_each_version_keeps_it(
    odoo_emulator: OdooEmulator,
) -> None:
    """action_pos_order_paid failing: 16/17 keep a draft, 18 keeps the claimed "paid"
    (with its books wrong), 19 fails the whole call; only 19 says so."""
    order = {**hub_order(1, {"BURGER": 1}, tendered={2: "5.00"}), "change": "0.00"}
    payload = order_payload(order, refs_for(odoo_emulator), odoo_emulator.version)
    if odoo_emulator.version >= 18:
        payload = {**payload, "state": "paid"}  # what Odoo's own POS claims
    method = "create_from_ui" if odoo_emulator.version <= 17 else "sync_from_ui"
    answer = execute_kw(odoo_emulator, "pos.order", method, [payload])
    if odoo_emulator.version >= 19:
        assert "is not fully paid" in answer["error"]["data"]["message"]
        assert odoo_emulator.orders() == []
        return
    assert "error" not in answer
    (stored,) = odoo_emulator.orders()
    assert stored["state"] == ("draft" if odoo_emulator.version <= 17 else "paid")
    assert stored["amount_paid"] == 5.0


def test_sync_from_ui_rejects_keys_that_are_not_fields() -> None:
    """18+ pass the order dict straight to create: one stray key fails the batch."""
    with OdooEmulator(18) as emulator:
        payload = order_payload(hub_order(1, {"BURGER": 1}), refs_for(emulator), 18)
        answer = execute_kw(emulator, "pos.order", "sync_from_ui", [{**payload, "note_x": 1}])
        assert answer["error"]["data"]["name"] == "builtins.ValueError"
        assert emulator.orders() == []


def test_faults_limited_to_push_methods_leave_reads_alone(odoo_emulator: OdooEmulator) -> None:
    """Tests aim a fault at pushes and still use find_orders to check the outcome."""
    odoo_emulator.faults.set(error_rate=1.0, only={"create_from_ui", "sync_from_ui"})
    assert "result" in execute_kw(odoo_emulator, "pos.order", "search_read", [])
    method = "create_from_ui" if odoo_emulator.version <= 17 else "sync_from_ui"
    seed = odoo_emulator.seed
    assert seed is not None
    response = jsonrpc(
        odoo_emulator,
        "object",
        "execute_kw",
        odoo_emulator.dbname,
        seed.uid,
        seed.api_key,
        "pos.order",
        method,
        [[]],
    )
    assert response.status_code == 503


def test_a_payment_method_off_the_pos_config_is_refused(odoo_emulator: OdooEmulator) -> None:
    """pos.payment._check_payment_method_id: the method must be on the session's config."""
    voucher = odoo_emulator.create("pos.payment.method", {"name": "Voucher"})
    refs = refs_for(odoo_emulator, payment_methods={2: voucher})
    payload = order_payload(hub_order(1, {"BURGER": 1}), refs, odoo_emulator.version)
    method = "create_from_ui" if odoo_emulator.version <= 17 else "sync_from_ui"
    answer = execute_kw(odoo_emulator, "pos.order", method, [payload])
    assert answer["error"]["data"]["name"] == "odoo.exceptions.ValidationError"
    assert "not allowed in the config of the POS session" in answer["error"]["data"]["message"]
    assert odoo_emulator.orders() == []


def test_saving_the_product_form_leaves_the_variant_write_date(odoo_emulator: OdooEmulator) -> None:
    """product.product inherits its price from product.template (_inherits): a template
    write is seen on the variant, found by product_tmpl_id.write_date, not by write_date."""
    seed = odoo_emulator.seed
    assert seed is not None
    (before,) = odoo_emulator.records("product.product", [("id", "=", seed.products["FRIES"])])
    odoo_emulator.advance_clock(minutes=5)
    cut = odoo_emulator.clock.now().strftime("%Y-%m-%d %H:%M:%S")
    odoo_emulator.write("product.template", [seed.templates["FRIES"]], {"list_price": 3.9})
    (after,) = odoo_emulator.records("product.product", [("id", "=", seed.products["FRIES"])])
    assert (after["lst_price"], after["write_date"]) == (3.9, before["write_date"])
    assert odoo_emulator.records("product.product", [("write_date", ">", cut)]) == []
    through = [("product_tmpl_id.write_date", ">", cut)]
    assert [r["id"] for r in odoo_emulator.records("product.product", through)] == [
        seed.products["FRIES"]
    ]
