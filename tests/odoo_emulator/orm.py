"""An in-memory ORM with the behaviour of Odoo's that a sync agent can observe.

What is kept from Odoo, because the agent depends on it:

* ``write_date`` / ``create_date`` stamped from the server clock on every
  create and write, stored to the microsecond and read back to the second, so
  a ``write_date > watermark`` query can return a record the watermark already
  covered, never miss one.
* ``active``: a search hides archived records unless the domain names
  ``active`` or the context says ``active_test: False``; ``read`` by id sees
  them.
* Domains in prefix notation with Odoo's NULL semantics (see ``domain``).
* Many2one values that point nowhere fail like the foreign key they are, and
  required fields fail like NOT NULL, with the ValidationError text Odoo's
  RPC layer makes of an IntegrityError (16 and 17+ wordings differ).
* One transaction per call: a call that raises leaves no trace.
* Delegation (``_inherits``): a field declared ``related="link.name"`` lives
  on the record ``link`` points at. Reading, searching and writing it go
  through the link (``odoo/models.py`` ``_inherits``: ``product.product``
  stores its name, price and taxes on its ``product.template``), and a write
  stamps ``write_date`` on the record written: saving the template in the
  product form does not touch the variant's. A field with ``compute`` is not
  stored at all and is computed on read.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .domain import DATETIME_FORMAT, compile_domain, is_leaf, parse_datetime, sort_rows
from .exceptions import ValidationError, missing_record
from .storage import Indexes, UndoLog, candidate_ids


class Clock:
    """The server's clock: real time flowing from a fixed start, plus manual jumps.

    ``now()`` never returns the same instant twice, so two writes are always
    ordered by ``write_date``, as two transactions are in PostgreSQL.
    """

    def __init__(self, start: datetime = datetime(2024, 5, 2, 10, 0, 0)) -> None:
        self._lock = threading.Lock()
        self._start = start
        self._t0 = time.monotonic()
        self._offset = timedelta(0)
        self._last = start

    def now(self) -> datetime:
        with self._lock:
            now = self._start + self._offset + timedelta(seconds=time.monotonic() - self._t0)
            if now <= self._last:
                now = self._last + timedelta(microseconds=1)
            self._last = now
            return now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta


@dataclass(frozen=True)
class Field:
    """One column; ``comodel``/``inverse`` for relations, ``default`` a value or ``f(env)``."""

    type: str
    string: str
    comodel: str | None = None
    inverse: str | None = None
    required: bool = False
    default: Any = None
    readable: bool = True
    related: str | None = None  # "link.field": stored on the record ``link`` points at
    compute: Callable[[Env, Record], Any] | None = None  # not stored: computed on read


@dataclass
class ModelSpec:
    """A model as declared: its fields, default order and the field that names a record."""

    name: str
    description: str
    fields: dict[str, Field]
    order: str = "id"
    rec_name: str = "name"
    # What the model's ``create`` override does around the generic one.
    before_create: Callable[[Env, dict[str, Any]], dict[str, Any]] | None = None
    after_create: Callable[[Env, int], None] | None = None

    def __post_init__(self) -> None:
        self.fields = {
            "id": Field("integer", "ID"),
            **self.fields,
            "create_date": Field("datetime", "Created on"),
            "write_date": Field("datetime", "Last Updated on"),
        }

    @property
    def table(self) -> str:
        return self.name.replace(".", "_")


Record = dict[str, Any]


class Database:
    """All tables of one emulated database, guarded by one lock.

    Every RPC runs inside ``transaction()``: the lock is held for the whole
    call and the rows it touched are restored if the call raises, which is
    what one PostgreSQL transaction per call gives Odoo's clients.
    """

    def __init__(self, models: Mapping[str, ModelSpec], clock: Clock, version: int) -> None:
        self.models = dict(models)
        self.clock = clock
        self.version = version
        self.lock = threading.RLock()
        self.tables: dict[str, dict[int, Record]] = {name: {} for name in self.models}
        self.next_id: dict[str, int] = {name: 1 for name in self.models}
        self.sequences: dict[str, int] = {}
        self.api_keys: dict[str, int] = {}
        self.options: dict[str, Any] = {}
        self.undo = UndoLog()
        self.indexes = Indexes(self.tables)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            saved = (dict(self.next_id), dict(self.sequences))
            self.undo.begin()
            try:
                yield
            except BaseException:
                self.indexes.drop(self.undo.rollback(self.tables))
                self.next_id, self.sequences = saved
                raise
            self.undo.commit()

    def touch(self, model: str, rid: int) -> None:
        """Before a row is created, changed or deleted: let a rollback restore it."""
        self.undo.touch(self.tables, model, rid)

    def next_in_sequence(self, code: str) -> int:
        self.sequences[code] = self.sequences.get(code, 0) + 1
        return self.sequences[code]


class Env:
    """The ORM as one user sees it, with a context (only ``active_test`` matters here)."""

    def __init__(self, db: Database, uid: int, context: Mapping[str, Any] | None = None) -> None:
        self.db = db
        self.uid = uid
        self.context = dict(context or {})

    @property
    def version(self) -> int:
        return self.db.version

    def with_context(self, **changes: Any) -> Env:
        return Env(self.db, self.uid, {**self.context, **changes})

    def spec(self, model: str) -> ModelSpec:
        return self.db.models[model]

    # -- records --------------------------------------------------------

    def exists(self, model: str, rid: Any) -> bool:
        return isinstance(rid, int) and rid in self.db.tables[model]

    def record(self, model: str, rid: int) -> Record:
        """The stored row, or the MissingError Odoo raises on reading a deleted record."""
        try:
            return self.db.tables[model][rid]
        except (KeyError, TypeError):
            raise missing_record(model, [rid], self.uid) from None

    def value(self, model: str, rid: int, fname: str) -> Any:
        return self.record(model, rid).get(fname)

    # -- search ---------------------------------------------------------

    def search(
        self,
        model: str,
        domain: Sequence[Any] = (),
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[int]:
        spec = self.spec(model)
        domain = list(domain or [])
        if (
            "active" in spec.fields
            and self.context.get("active_test", True)
            and not any(is_leaf(item) and item[0] == "active" for item in domain)
        ):
            domain = [("active", "=", True), *domain]
        predicate = compile_domain(spec, domain, self.db.tables, self.db.models)
        table = self.db.tables[model]
        candidates = candidate_ids(spec, domain, table, self.db.indexes)
        source = table.values() if candidates is None else (table[i] for i in candidates)
        rows = [row for row in source if predicate(row)]
        rows = sort_rows(rows, order or spec.order)
        ids = [row["id"] for row in rows]
        ids = ids[offset or 0 :]
        return ids[:limit] if limit else ids

    # -- read -----------------------------------------------------------

    def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str] | None = None,
        load: str | None = "_classic_read",
    ) -> list[dict[str, Any]]:
        """Rows as Odoo's ``read`` gives them; ids that do not exist are left out."""
        spec = self.spec(model)
        names = [n for n in (fields or spec.fields) if n != "id"]
        for name in names:
            if name not in spec.fields and name != "display_name":
                raise ValueError(f"Invalid field {name!r} on model {model!r}")
        result = []
        for rid in ids:
            row = self.db.tables[model].get(rid)
            if row is None:
                continue
            out: dict[str, Any] = {"id": rid}
            for name in names:
                if name == "display_name":
                    out[name] = self.display_name(model, rid)
                elif spec.fields[name].readable:
                    out[name] = self._convert_to_read(spec, row, name, load)
            result.append(out)
        return result

    def display_name(self, model: str, rid: int) -> str:
        spec = self.spec(model)
        row = self.record(model, rid)
        name = row.get(spec.rec_name)
        return str(name) if name else f"{model},{rid}"

    def _convert_to_read(self, spec: ModelSpec, row: Record, name: str, load: str | None) -> Any:
        fdef = spec.fields[name]
        if fdef.related:
            link, target = fdef.related.split(".", 1)
            comodel = spec.fields[link].comodel
            assert comodel
            parent = self.db.tables[comodel].get(row.get(link))  # type: ignore[arg-type]
            return self._convert_to_read(self.spec(comodel), parent or {}, target, load)
        value = fdef.compute(self, row) if fdef.compute else row.get(name)
        if fdef.type == "one2many":
            assert fdef.comodel and fdef.inverse
            return self.db.indexes.lookup(fdef.comodel, fdef.inverse, [row["id"]])
        if fdef.type == "many2many":
            return list(value or [])
        if fdef.type == "many2one":
            if not value:
                return False
            assert fdef.comodel
            return [value, self.display_name(fdef.comodel, value)] if load else value
        if fdef.type == "datetime":
            return value.strftime(DATETIME_FORMAT) if value else False
        if fdef.type == "float":
            return float(value or 0.0)
        if fdef.type == "integer":
            return int(value or 0)
        if fdef.type == "boolean":
            return bool(value)
        return value if value not in (None, "") else False

    # -- create / write / unlink -----------------------------------------

    def create(self, model: str, vals: Mapping[str, Any]) -> int:
        spec = self.spec(model)
        vals = dict(vals)
        if spec.before_create:
            vals = spec.before_create(self, vals)
        self._check_field_names(spec, vals)
        delegated = {k: vals.pop(k) for k in list(vals) if spec.fields[k].related}
        vals.update(self._create_parents(spec, vals, delegated))
        rid = self.db.next_id[model]
        self.db.next_id[model] = rid + 1
        now = self.db.clock.now()
        row: Record = {"id": rid, "create_date": now, "write_date": now}
        for name, fdef in spec.fields.items():
            if name in row or fdef.type == "one2many" or fdef.related or fdef.compute:
                continue
            default = fdef.default(self) if callable(fdef.default) else fdef.default
            row[name] = copy.deepcopy(default)
        for name, value in vals.items():
            if spec.fields[name].type != "one2many":
                row[name] = self._convert_to_write(spec, name, value, row.get(name))
        self._check_required(spec, row)
        self.db.touch(model, rid)
        self.db.tables[model][rid] = row
        self.db.indexes.added(model, row)
        for name, value in vals.items():
            if spec.fields[name].type == "one2many":
                self._apply_one2many(spec, rid, name, value)
        if spec.after_create:
            spec.after_create(self, rid)
        return rid

    def _create_parents(
        self, spec: ModelSpec, vals: dict[str, Any], delegated: dict[str, Any]
    ) -> dict[str, Any]:
        """``_inherits`` on create: the parent gets its fields' values, created if not given."""
        by_link: dict[str, dict[str, Any]] = {}
        for name, value in delegated.items():
            link, target = str(spec.fields[name].related).split(".", 1)
            by_link.setdefault(link, {})[target] = value
        links: dict[str, Any] = {}
        for link, parent_vals in by_link.items():
            comodel = spec.fields[link].comodel
            assert comodel
            if vals.get(link):
                self.write(comodel, [vals[link]], parent_vals)
            else:
                links[link] = self.create(comodel, parent_vals)
        return links

    def write(self, model: str, ids: Sequence[int], vals: Mapping[str, Any]) -> None:
        spec = self.spec(model)
        self._check_field_names(spec, vals)
        delegated = {k: v for k, v in vals.items() if spec.fields[k].related}
        if delegated:
            vals = {k: v for k, v in vals.items() if k not in delegated}
            for rid in ids:
                self._create_parents(spec, {**self.record(model, rid)}, delegated)
        for rid in ids:
            row = self.record(model, rid)
            self.db.touch(model, rid)
            self.db.indexes.removed(model, row)
            try:
                for name, value in vals.items():
                    if spec.fields[name].type == "one2many":
                        self._apply_one2many(spec, rid, name, value)
                    else:
                        row[name] = self._convert_to_write(spec, name, value, row.get(name))
                self._check_required(spec, row)
                row["write_date"] = self.db.clock.now()
            finally:
                self.db.indexes.added(model, row)

    def unlink(self, model: str, ids: Sequence[int]) -> None:
        for rid in ids:
            row = self.record(model, rid)
            self.db.touch(model, rid)
            self.db.indexes.removed(model, row)
            del self.db.tables[model][rid]

    def _check_field_names(self, spec: ModelSpec, vals: Mapping[str, Any]) -> None:
        for name in vals:
            if name not in spec.fields or name in ("id", "create_date", "write_date"):
                raise ValueError(f"Invalid field {name!r} on model {spec.name!r}")
            if spec.fields[name].compute:
                raise ValueError(f"Field {spec.name}.{name} is computed and cannot be written")

    def _convert_to_write(self, spec: ModelSpec, name: str, value: Any, old: Any) -> Any:
        fdef = spec.fields[name]
        if fdef.type == "many2one":
            if value in (False, None, 0):
                return None
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"Wrong value for {spec.name}.{name}: {value!r}")
            assert fdef.comodel
            if not self.exists(fdef.comodel, value):
                raise ValidationError(self._fk_message(spec, name))
            return value
        if fdef.type == "many2many":
            assert fdef.comodel
            ids = _apply_many2many(list(old or []), value)
            for rid in ids:
                if not self.exists(fdef.comodel, rid):
                    raise ValidationError(self._fk_message(spec, name))
            return ids
        if value is False or value is None:
            return False if fdef.type == "boolean" else None
        if fdef.type == "datetime":
            return value if isinstance(value, datetime) else parse_datetime(value)
        if fdef.type == "float":
            if not isinstance(value, int | float):
                raise ValueError(f"Wrong value for {spec.name}.{name}: {value!r}")
            return float(value)
        if fdef.type == "integer":
            return int(value)
        if fdef.type == "boolean":
            return bool(value)
        return str(value)

    def _apply_one2many(self, spec: ModelSpec, rid: int, name: str, commands: Any) -> None:
        fdef = spec.fields[name]
        assert fdef.comodel and fdef.inverse
        comodel, inverse = fdef.comodel, fdef.inverse
        for command in commands or []:
            code = command[0]
            if code == 0:
                self.create(comodel, {**command[2], inverse: rid})
            elif code == 1:
                self.write(comodel, [command[1]], command[2])
            elif code == 2:
                self.unlink(comodel, [command[1]])
            elif code == 4:
                self.write(comodel, [command[1]], {inverse: rid})
            elif code == 5:
                self.unlink(comodel, self.db.indexes.lookup(comodel, inverse, [rid]))
            elif code == 6:
                for child in list(self.db.tables[comodel].values()):
                    if child[inverse] == rid and child["id"] not in command[2]:
                        self.unlink(comodel, [child["id"]])
                for child_id in command[2]:
                    self.write(comodel, [child_id], {inverse: rid})
            else:
                raise ValueError(f"Unknown x2many command {command!r}")

    def _check_required(self, spec: ModelSpec, row: Record) -> None:
        for name, fdef in spec.fields.items():
            if fdef.related or fdef.compute:
                continue
            if fdef.required and row.get(name) in (None, ""):
                raise ValidationError(self._not_null_message(spec, name))

    # Odoo's RPC layer turns IntegrityError into these texts (odoo/service/model.py).
    _CANNOT = "The operation cannot be completed:"

    def _fk_message(self, spec: ModelSpec, name: str) -> str:
        head = (
            f"{self._CANNOT} another model requires the record being deleted."
            " If possible, archive it instead."
        )
        constraint = f"{spec.table}_{name}_fkey"
        if self.version <= 16:
            return f"{head}\n\nModel: {spec.description} ({spec.name}), Constraint: {constraint}"
        return f"{head}\n\nModel: {spec.description} ({spec.name})\nConstraint: {constraint}\n"

    def _not_null_message(self, spec: ModelSpec, name: str) -> str:
        fdef = spec.fields[name]
        head = (
            f"{self._CANNOT}\n- Create/update: a mandatory field is not set.\n"
            "- Delete: another model requires the record being deleted."
            " If possible, archive it instead."
        )
        model, fld = f"{spec.description} ({spec.name})", f"{fdef.string} ({name})"
        if self.version <= 16:
            return f"{head}\n\nModel: {model}, Field: {fld}"
        return f"{head}\n\nModel: {model}\nField: {fld}\n"


def _apply_many2many(current: list[int], value: Any) -> list[int]:
    if value in (False, None):
        return []
    if all(isinstance(v, int) for v in value):
        return list(dict.fromkeys(value))
    ids = list(current)
    for command in value:
        code = command[0]
        if code == 6:
            ids = list(dict.fromkeys(command[2]))
        elif code == 4 and command[1] not in ids:
            ids.append(command[1])
        elif code in (3, 2):
            ids = [i for i in ids if i != command[1]]
        elif code == 5:
            ids = []
        else:
            raise ValueError(f"Unknown x2many command {command!r}")
    return ids
