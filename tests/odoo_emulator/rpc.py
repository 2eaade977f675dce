"""Odoo's RPC services over the emulated database: ``common``, ``object`` and JSON-2.

The checks run in Odoo's order, so the same mistake fails the same way:
credentials (``security.check``), then private method names, then the model,
then the method, then argument binding. Each model call runs in one
transaction (``Database.transaction``): an exception leaves nothing behind.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import pos
from .exceptions import (
    AccessDenied,
    AccessError,
    NotFound,
    OperationalError,
    Unauthorized,
    UnprocessableEntity,
    UserError,
)
from .orm import Database, Env

SUPERUSER_ID = 1


@dataclass(frozen=True)
class Method:
    """A public model method; ``model_level`` ones (``@api.model``) take no ids."""

    func: Callable[..., Any]
    model_level: bool


# -- the generic methods of every model ------------------------------------------------


def _search_read(
    env: Env,
    model: str,
    domain: list[Any] | None = None,
    fields: list[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
    load: str | None = "_classic_read",
) -> list[dict[str, Any]]:
    ids = env.search(model, domain or [], offset, limit, order)
    return env.read(model, ids, fields, load)


def _search(
    env: Env,
    model: str,
    domain: list[Any],
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[int]:
    return env.search(model, domain, offset, limit, order)


def _search_16(
    env: Env,
    model: str,
    domain: list[Any],
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
    count: bool = False,
) -> list[int] | int:
    ids = env.search(model, domain, offset, limit, order)
    return len(ids) if count else ids


def _search_count(env: Env, model: str, domain: list[Any], limit: int | None = None) -> int:
    return len(env.search(model, domain, limit=limit))


def _read(
    env: Env,
    model: str,
    ids: list[int],
    fields: list[str] | None = None,
    load: str | None = "_classic_read",
) -> list[dict[str, Any]]:
    return env.read(model, ids, fields, load)


def _write(env: Env, model: str, ids: list[int], vals: dict[str, Any]) -> bool:
    env.write(model, ids, vals)
    return True


def _create(env: Env, model: str, vals_list: dict[str, Any] | list[dict[str, Any]]) -> list[int]:
    values = [vals_list] if isinstance(vals_list, Mapping) else vals_list
    return [env.create(model, vals) for vals in values]


def _unlink(env: Env, model: str, ids: list[int]) -> bool:
    env.unlink(model, ids)
    return True


def _archive(env: Env, model: str, ids: list[int]) -> bool:
    env.write(model, ids, {"active": False})
    return True


def _unarchive(env: Env, model: str, ids: list[int]) -> bool:
    env.write(model, ids, {"active": True})
    return True


def _context_get(env: Env, model: str) -> dict[str, Any]:
    return {"lang": "en_US", "tz": "Europe/Brussels", "uid": env.uid}


def _create_from_ui(env: Env, model: str, orders: list[Any], draft: bool = False) -> Any:
    return pos.create_from_ui(env, orders, draft)


def _sync_from_ui(env: Env, model: str, orders: list[Any]) -> Any:
    return pos.sync_from_ui(env, orders)


def _export_for_ui(env: Env, model: str, ids: list[int]) -> Any:
    return pos.export_for_ui(env, ids)


def _session_open(env: Env, model: str, ids: list[int]) -> Any:
    return pos.session_open(env, ids)


def _set_opening_control(
    env: Env, model: str, ids: list[int], cashbox_value: float, notes: str
) -> Any:
    return pos.set_opening_control(env, ids, cashbox_value, notes)


def _post_closing_cash_details(env: Env, model: str, ids: list[int], counted_cash: float) -> Any:
    return pos.post_closing_cash_details(env, ids, counted_cash)


def _session_closing_control(env: Env, model: str, ids: list[int]) -> Any:
    return pos.session_closing_control(env, ids)


def _session_close(env: Env, model: str, ids: list[int]) -> Any:
    return pos.session_close(env, ids)


def public_methods(db: Database, model: str) -> dict[str, Method]:
    """What ``model`` exposes over RPC in this database's Odoo version."""
    methods = {
        "search_read": Method(_search_read, True),
        "search": Method(_search_16 if db.version <= 16 else _search, True),
        "search_count": Method(_search_count, True),
        "read": Method(_read, False),
        "write": Method(_write, False),
        "create": Method(_create, True),
        "unlink": Method(_unlink, False),
    }
    if "active" in db.models[model].fields:
        methods["action_archive"] = Method(_archive, False)
        methods["action_unarchive"] = Method(_unarchive, False)
    if model == "res.users":
        methods["context_get"] = Method(_context_get, True)
    if model == "pos.order":
        if db.version <= 17:
            methods["create_from_ui"] = Method(_create_from_ui, True)
            methods["export_for_ui"] = Method(_export_for_ui, False)
        else:
            methods["sync_from_ui"] = Method(_sync_from_ui, True)
    if model == "pos.session":
        methods["action_pos_session_open"] = Method(_session_open, False)
        methods["action_pos_session_closing_control"] = Method(_session_closing_control, False)
        methods["action_pos_session_close"] = Method(_session_close, False)
        # 16 names the opening count set_cashbox_pos; 17 renamed it set_opening_control.
        opening = "set_cashbox_pos" if db.version <= 16 else "set_opening_control"
        methods[opening] = Method(_set_opening_control, False)
        methods["post_closing_cash_details"] = Method(_post_closing_cash_details, False)
    return methods


# -- the Odoo process ----------------------------------------------------------------------


class OdooServer:
    """One Odoo server with one database, answering the RPC services.

    ``credentials_revoked`` is read on every check so a test can turn every
    key wrong while requests are running.
    """

    def __init__(self, db: Database, dbname: str, credentials_revoked: Callable[[], bool]) -> None:
        self.db = db
        self.dbname = dbname
        self.credentials_revoked = credentials_revoked

    @property
    def version(self) -> int:
        return self.db.version

    def version_info(self) -> dict[str, Any]:
        """``common.version``: RPC_VERSION_1."""
        serie = f"{self.version}.0"
        return {
            "server_version": serie,
            "server_version_info": [self.version, 0, 0, "final", 0, ""],
            "server_serie": serie,
            "protocol_version": 1,
        }

    def web_version(self) -> dict[str, Any]:
        """``GET /web/version`` (19): ``{version_info, version}``."""
        return {
            "version_info": [self.version, 0, 0, "final", 0, ""],
            "version": f"{self.version}.0",
        }

    # -- credentials --

    def _check_db(self, dbname: str) -> None:
        if dbname != self.dbname:
            raise OperationalError(
                'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                f'FATAL:  database "{dbname}" does not exist\n'
            )

    def _uid_for(self, login: str, secret: str) -> int | None:
        if self.credentials_revoked():
            return None
        with self.db.lock:
            for user in self.db.tables["res.users"].values():
                if user["login"] == login and user["active"]:
                    if secret and secret == user.get("password"):
                        return int(user["id"])
                    if self.db.api_keys.get(secret) == user["id"]:
                        return int(user["id"])
        return None

    def authenticate(self, dbname: str, login: str, password: str) -> int | bool:
        """``common.authenticate``: the uid, or False; bad credentials are not an error."""
        self._check_db(dbname)
        uid = self._uid_for(login, password)
        return uid if uid is not None else False

    def _check(self, dbname: str, uid: int, password: str) -> None:
        """``security.check``: the password or an API key of that very user."""
        self._check_db(dbname)
        if self.credentials_revoked():
            raise AccessDenied()
        with self.db.lock:
            user = self.db.tables["res.users"].get(uid)
            ok = bool(user and user["active"]) and (
                (bool(password) and password == user.get("password"))
                or self.db.api_keys.get(password) == uid
            )
        if not ok:
            raise AccessDenied()

    def uid_for_api_key(self, key: str) -> int | None:
        if self.credentials_revoked():
            return None
        with self.db.lock:
            uid = self.db.api_keys.get(key)
            user = self.db.tables["res.users"].get(uid) if uid else None
            return uid if user and user["active"] else None

    # -- services --

    def common(self, method: str, args: list[Any]) -> Any:
        if method == "version":
            return self.version_info()
        if method == "login":
            return self.authenticate(*args)
        if method == "authenticate":
            dbname, login, password, _user_agent_env = args
            return self.authenticate(dbname, login, password)
        if method == "about":
            return "See http://openerp.com"
        raise AttributeError(f"module 'odoo.service.common' has no attribute 'exp_{method}'")

    def object(self, method: str, params: list[Any]) -> Any:
        dbname, uid, password = params[0], int(params[1]), params[2]
        self._check(dbname, uid, password)
        if method == "execute":
            model, name, *args = params[3:]
            return self.execute_kw(uid, model, name, list(args), {})
        if method == "execute_kw":
            model, name, args, *rest = params[3:]
            return self.execute_kw(uid, model, name, list(args), rest[0] if rest else {})
        raise NameError(f"Method not available {method}")

    def execute_kw(
        self, uid: int, model: str, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        if self.version <= 17:
            self._check_method_name(model, name)
        if model not in self.db.models:
            raise UserError(f"Object {model} doesn't exist")
        method = self._public_method(model, name)
        self._check_access(uid, model)
        kwargs = dict(kwargs or {})
        context = kwargs.pop("context", None) or {}
        if not method.model_level:
            if not args:
                raise TypeError(f"{name}() missing 1 required positional argument: 'ids'")
            ids, args = args[0], args[1:]
            args = [ids if isinstance(ids, list) else [ids], *args]
        with self.db.transaction():
            env = Env(self.db, uid, context)
            result = method.func(env, model, *args, **kwargs)
        if name == "create" and args and isinstance(args[0], Mapping):
            return result[0]
        return result

    def json2(self, model: str, name: str, params: dict[str, Any], api_key: str | None) -> Any:
        """``POST /json/2/<model>/<method>``: parameters by name, ids apart."""
        uid = self.uid_for_api_key(api_key) if api_key else None
        if uid is None:
            raise Unauthorized("Invalid apikey")
        if model not in self.db.models:
            raise NotFound(f"the model {model!r} does not exist")
        try:
            method = self._public_method(model, name)
        except AttributeError as exc:
            raise NotFound(str(exc)) from exc
        self._check_access(uid, model)
        params = dict(params)
        ids = params.pop("ids", None) or []
        context = params.pop("context", None) or {}
        if method.model_level and ids:
            raise UnprocessableEntity(f"cannot call {model}.{name} with ids")
        args: list[Any] = [] if method.model_level else [ids]
        try:
            inspect.signature(method.func).bind(None, model, *args, **params)
        except TypeError as exc:
            raise UnprocessableEntity(str(exc)) from exc
        with self.db.transaction():
            env = Env(self.db, uid, context)
            return method.func(env, model, *args, **params)

    def _check_access(self, uid: int, model: str) -> None:
        """``ir.model.access.check`` (odoo/addons/base/models/ir_model.py): no group, no rows.

        The emulator's users may use every model unless a test withdraws one
        with ``set_option("no_access", {model, ...})``, as an administrator
        removing a group from the sync user would; the superuser is never refused.
        Odoo names the model by its description ('Tax'); the emulator has none.
        """
        if uid == SUPERUSER_ID or model not in self.db.options.get("no_access", ()):
            return
        raise AccessError(
            f"You are not allowed to access '{model}' ({model}) records.\n\n"
            "No group currently allows this operation.\n\n"
            "Contact your administrator to request access if necessary."
        )

    def _check_method_name(self, model: str, name: str) -> None:
        if name.startswith("_"):
            if self.version <= 17:
                raise AccessError(f"Private methods (such as {name}) cannot be called remotely.")
            raise AccessError(
                f"Private methods (such as '{model}.{name}') cannot be called remotely."
            )

    def _public_method(self, model: str, name: str) -> Method:
        self._check_method_name(model, name)
        method = public_methods(self.db, model).get(name)
        if method is None:
            if self.version <= 17:
                raise AttributeError(f"type object '{model}' has no attribute '{name}'")
            raise AttributeError(f"The method '{model}.{name}' does not exist")
        return method
