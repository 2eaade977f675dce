"""Odoo domains and orders, evaluated over in-memory rows.

A domain is Odoo's prefix notation: ``["|", ("a", "=", 1), "!", ("b", "in", [2, 3])]``,
with an implicit AND between what remains. Comparisons follow PostgreSQL as
Odoo generates it: ``!=`` is true for NULL, ordering operators are false for
NULL, a datetime operand may be a string in Odoo's format, and sorting puts
NULLs last ascending and first descending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .orm import ModelSpec

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

Record = dict[str, Any]
Tables = Mapping[str, Mapping[int, Record]]
Predicate = Callable[[Record], bool]


def parse_datetime(value: Any) -> datetime:
    """Odoo's ``fields.Datetime.to_datetime``: a date or a datetime, in Odoo's server format."""
    if not isinstance(value, str):
        raise ValueError(f"Invalid datetime {value!r}")
    text = value.strip()
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d")
    return datetime.strptime(text[:19], DATETIME_FORMAT)


def is_leaf(item: Any) -> bool:
    return isinstance(item, list | tuple) and len(item) == 3


def compile_domain(
    spec: ModelSpec,
    domain: list[Any],
    tables: Tables,
    specs: Mapping[str, ModelSpec] | None = None,
) -> Predicate:
    """Domain in prefix notation → predicate; a malformed domain raises ValueError.

    With ``specs``, a leaf may follow many2one links (``product_tmpl_id.write_date``)
    and name a ``related`` field, as Odoo's ``expression`` turns both into joins.
    """
    stack: list[Predicate] = []
    for item in reversed(domain):
        if item == "&" or item == "|":
            if len(stack) < 2:
                raise ValueError(f"Invalid domain {domain!r}")
            first, second = stack.pop(), stack.pop()
            if item == "&":
                stack.append(lambda r, a=first, b=second: a(r) and b(r))
            else:
                stack.append(lambda r, a=first, b=second: a(r) or b(r))
        elif item == "!":
            if not stack:
                raise ValueError(f"Invalid domain {domain!r}")
            inner = stack.pop()
            stack.append(lambda r, a=inner: not a(r))
        elif is_leaf(item):
            stack.append(_leaf(spec, tuple(item), tables, specs or {}))
        else:
            raise ValueError(f"Invalid leaf {item!r}")
    return lambda r: all(p(r) for p in stack)


_OPERATORS = {
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "like",
    "ilike",
    "not like",
    "not ilike",
    "=like",
    "=ilike",
}


def _leaf(
    spec: ModelSpec, leaf: tuple[Any, Any, Any], tables: Tables, specs: Mapping[str, ModelSpec]
) -> Predicate:
    fname, op, value = leaf
    if leaf in ((1, "=", 1), (0, "=", 1)):
        return lambda r, ok=bool(fname): ok
    if op not in _OPERATORS:
        raise ValueError(f"Invalid operator {op!r} in leaf {leaf!r}")
    head = fname.split(".", 1)[0] if isinstance(fname, str) else fname
    if head not in spec.fields:
        raise ValueError(f"Invalid field {spec.name}.{fname} in leaf {leaf!r}")
    fdef = spec.fields[head]
    path = fdef.related if fdef.related else fname if head != fname else None
    if path is not None:
        return _through(spec, path, op, value, tables, specs, leaf)
    if fdef.compute:
        raise ValueError(f"Non-stored field {spec.name}.{fname} cannot be searched")
    if fdef.type == "one2many":
        assert fdef.comodel and fdef.inverse
        comodel, inverse = fdef.comodel, fdef.inverse

        def children(r: Record) -> list[int]:
            rows = tables[comodel].values()
            return [c["id"] for c in rows if c.get(inverse) == r["id"]]

        return lambda r: _match_many(children(r), op, value)
    if fdef.type == "many2many":
        return lambda r: _match_many(r.get(fname) or [], op, value)
    if fdef.type == "datetime":
        value = _datetime_operand(value)
    return lambda r: _match(r.get(fname), op, value, fdef.type)


def _through(
    spec: ModelSpec,
    path: str,
    op: str,
    value: Any,
    tables: Tables,
    specs: Mapping[str, ModelSpec],
    leaf: Any,
) -> Predicate:
    """A leaf on ``link.rest``: the record ``link`` points at must match ``(rest, op, value)``."""
    link, rest = path.split(".", 1)
    fdef = spec.fields.get(link)
    if fdef is None or fdef.type != "many2one" or fdef.comodel not in specs:
        raise ValueError(f"Invalid field {spec.name}.{path} in leaf {leaf!r}")
    comodel = fdef.comodel
    inner = _leaf(specs[comodel], (rest, op, value), tables, specs)
    rows = tables[comodel]

    def predicate(r: Record) -> bool:
        target = rows.get(r.get(link))  # type: ignore[arg-type]
        return inner(target if target is not None else {})

    return predicate


def _datetime_operand(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [parse_datetime(v) if isinstance(v, str) else v for v in value]
    return parse_datetime(value) if isinstance(value, str) else value


def _match(stored: Any, op: str, value: Any, ftype: str) -> bool:
    if ftype == "boolean":
        stored = bool(stored)
    if value is False and ftype != "boolean":
        value = None
    if op == "=":
        return stored == value
    if op in ("!=", "<>"):
        return stored != value
    if op == "in":
        values = [None if v is False and ftype != "boolean" else v for v in value]
        return stored in values
    if op == "not in":
        values = [None if v is False and ftype != "boolean" else v for v in value]
        return stored not in values
    if stored is None or value is None:
        return False
    if op == "<":
        return bool(stored < value)
    if op == "<=":
        return bool(stored <= value)
    if op == ">":
        return bool(stored > value)
    if op == ">=":
        return bool(stored >= value)
    text, pattern = str(stored), str(value)
    if op in ("=like", "=ilike"):
        return _like(text, pattern, op == "=ilike")
    found = _like(text, f"%{pattern}%", op.endswith("ilike"))
    return not found if op.startswith("not") else found


def _like(text: str, pattern: str, insensitive: bool) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    flags = re.IGNORECASE | re.DOTALL if insensitive else re.DOTALL
    return re.fullmatch(regex, text, flags) is not None


def _match_many(ids: list[int], op: str, value: Any) -> bool:
    wanted = value if isinstance(value, list | tuple) else [value]
    if value is False or value is None:
        return not ids if op == "=" else bool(ids)
    hit = any(i in ids for i in wanted)
    if op in ("=", "in"):
        return hit
    if op in ("!=", "<>", "not in"):
        return not hit
    raise ValueError(f"Operator {op!r} not supported on x2many fields")


def sort_rows(rows: list[Record], order: str) -> list[Record]:
    """Sort like PostgreSQL: NULLS LAST ascending, NULLS FIRST descending."""
    rows = list(rows)
    terms = [t.split() for t in order.split(",") if t.strip()]
    for term in reversed(terms):
        fname = term[0]
        descending = len(term) > 1 and term[1].lower() == "desc"
        rows.sort(key=lambda r, f=fname: _sort_key(r.get(f)), reverse=descending)
    return rows


def _sort_key(value: Any) -> tuple[bool, Any]:
    if value is None:
        return (True, 0)
    if isinstance(value, list):
        return (False, tuple(value))
    return (False, value)
