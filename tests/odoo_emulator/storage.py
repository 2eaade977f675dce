"""How the emulator keeps its tables transactional and fast as they grow.

The emulator answered every call by deep-copying the whole database first (to
roll back on error) and by scanning whole tables (to search, and to read
one2many fields). Both cost O(rows) per call, so pushing a 10,000-order
backlog cost O(n²) and the emulator, not the client, set the pace of every
throughput figure. Neither changes what a client can observe:

* ``UndoLog`` remembers a row as it was before its first change in a
  transaction, so a rollback restores exactly the rows that call touched.
* ``Indexes`` maps the values of a scalar field to the ids holding them,
  built on first use and kept current by the ORM's create, write and unlink.
  ``candidate_ids`` narrows a search with them; the full domain still runs
  on every candidate, so results are the same as a scan's.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .orm import ModelSpec

Record = dict[str, Any]
Key = tuple[str, int]

# Field types whose stored values are hashable scalars an equality test can look up.
INDEXABLE = frozenset({"many2one", "char", "integer", "selection"})


class UndoLog:
    """Rows as they were before the open transactions changed them, innermost last."""

    def __init__(self) -> None:
        self._levels: list[dict[Key, Record | None]] = []

    def begin(self) -> None:
        self._levels.append({})

    def touch(self, tables: Mapping[str, Mapping[int, Record]], model: str, rid: int) -> None:
        """Before a row is changed, created or deleted: keep its first state (None: absent)."""
        if not self._levels:
            return
        level = self._levels[-1]
        key = (model, rid)
        if key not in level:
            row = tables[model].get(rid)
            level[key] = copy.deepcopy(row) if row is not None else None

    def commit(self) -> None:
        """Keep the changes; an enclosing transaction may still roll them back."""
        level = self._levels.pop()
        if self._levels:
            parent = self._levels[-1]
            for key, before in level.items():
                parent.setdefault(key, before)

    def rollback(self, tables: dict[str, dict[int, Record]]) -> set[str]:
        """Put every touched row back as it was; returns the models touched."""
        level = self._levels.pop()
        for (model, rid), before in level.items():
            if before is None:
                tables[model].pop(rid, None)
            else:
                tables[model][rid] = before
        return {model for model, _ in level}


class Indexes:
    """Value → ids maps for scalar fields, built lazily over the live tables."""

    def __init__(self, tables: Mapping[str, Mapping[int, Record]]) -> None:
        self._tables = tables
        self._maps: dict[tuple[str, str], dict[Any, set[int]]] = {}

    def lookup(self, model: str, field: str, values: Iterable[Any]) -> list[int]:
        """Ids whose ``field`` equals one of ``values``, in id order."""
        index = self._maps.get((model, field))
        if index is None:
            index = {}
            for row in self._tables[model].values():
                index.setdefault(row.get(field), set()).add(row["id"])
            self._maps[(model, field)] = index
        found: set[int] = set()
        for value in values:
            found |= index.get(value, set())
        return sorted(found)

    def added(self, model: str, row: Record) -> None:
        for (indexed_model, field), index in self._maps.items():
            if indexed_model == model:
                index.setdefault(row.get(field), set()).add(row["id"])

    def removed(self, model: str, row: Record) -> None:
        for (indexed_model, field), index in self._maps.items():
            if indexed_model == model:
                ids = index.get(row.get(field))
                if ids is not None:
                    ids.discard(row["id"])

    def drop(self, models: Iterable[str]) -> None:
        """Forget the indexes of ``models`` (after a rollback); they are rebuilt on next use."""
        gone = set(models)
        for key in [k for k in self._maps if k[0] in gone]:
            del self._maps[key]


def index_values(field_type: str, op: str, value: Any) -> list[Any] | None:
    """The values an ``=`` or ``in`` leaf matches through an index, or None if it cannot.

    False and None are left to the scan: they mean NULL, and ``!=``-style NULL
    semantics are the domain's business. Booleans are left out too, since
    ``True == 1`` would find integer 1.
    """
    if field_type not in INDEXABLE:
        return None
    if op == "=":
        candidates = [value]
    elif op == "in" and isinstance(value, list | tuple):
        candidates = list(value)
    else:
        return None
    if any(v is None or isinstance(v, bool) or not isinstance(v, int | str) for v in candidates):
        return None
    return candidates


def candidate_ids(
    spec: ModelSpec, domain: list[Any], table: Mapping[int, Record], indexes: Indexes
) -> list[int] | None:
    """Ids the indexes say may match ``domain`` (a superset), or None to scan the table.

    Walks the prefix notation as ``compile_domain`` does (which has already
    refused a malformed domain): an AND narrows to either side an index can
    answer, an OR needs both sides answered, a NOT gives up.
    """
    stack: list[set[int] | None] = []
    for item in reversed(domain):
        if item in ("&", "|"):
            first, second = stack.pop(), stack.pop()
            if item == "&":
                stack.append(_narrowest(first, second))
            elif first is None or second is None:
                stack.append(None)
            else:
                stack.append(first | second)
        elif item == "!":
            stack.pop()
            stack.append(None)
        else:
            stack.append(_leaf_candidates(spec, item, table, indexes))
    found: set[int] | None = None
    for candidates in stack:
        found = _narrowest(found, candidates)
    return sorted(found) if found is not None else None


def _leaf_candidates(
    spec: ModelSpec, leaf: Any, table: Mapping[int, Record], indexes: Indexes
) -> set[int] | None:
    fname, op, value = leaf
    if fname == "id" and op in ("=", "in"):
        if op == "in" and not isinstance(value, list | tuple):
            return None
        values = value if isinstance(value, list | tuple) else [value]
        return {v for v in values if _is_id(v) and v in table}
    fdef = spec.fields.get(fname) if isinstance(fname, str) else None
    if fdef is not None and (fdef.related or fdef.compute):
        return None  # not stored on this table: the domain follows the link
    values = index_values(fdef.type, op, value) if fdef else None
    if values is None:
        return None
    return set(indexes.lookup(spec.name, fname, values))


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _narrowest(a: set[int] | None, b: set[int] | None) -> set[int] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b
