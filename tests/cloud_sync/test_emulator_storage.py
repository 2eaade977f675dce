"""The emulator's undo log and indexes change its speed, never what a client sees."""

from __future__ import annotations

import pytest

from tests.odoo_emulator import OdooEmulator
from tests.odoo_emulator.orm import Env


def _scan(env: Env, model: str, domain: list[object]) -> list[int]:
    """What a full table scan answers, bypassing every index."""
    from tests.odoo_emulator.domain import compile_domain, sort_rows

    spec = env.spec(model)
    predicate = compile_domain(spec, list(domain), env.db.tables, env.db.models)
    rows = [row for row in env.db.tables[model].values() if predicate(row)]
    return [row["id"] for row in sort_rows(rows, spec.order)]


def test_a_failed_call_rolls_back_rows_and_their_index_entries() -> None:
    """One transaction per call: a call that raises must leave no row and no index entry."""
    emulator = OdooEmulator(18)
    seed = emulator.seed
    assert seed is not None
    env = emulator.env()
    assert env.search("product.product", [("default_code", "=", "FRIES")])  # builds the index
    with pytest.raises(RuntimeError), emulator.db.transaction():
        env.create("product.product", {"name": "Ghost", "default_code": "GHOST"})
        env.write("product.product", [seed.products["FRIES"]], {"default_code": "CHIPS"})
        raise RuntimeError("the call fails after writing")
    assert env.search("product.product", [("default_code", "=", "GHOST")]) == []
    assert env.search("product.product", [("default_code", "=", "CHIPS")]) == []
    assert env.search("product.product", [("default_code", "=", "FRIES")]) == [
        seed.products["FRIES"]
    ]
    (fries,) = env.read("product.product", [seed.products["FRIES"]], ["default_code"])
    assert fries["default_code"] == "FRIES"


def test_indexed_searches_answer_what_a_scan_answers() -> None:
    """Every domain shape the POS code uses gives the same ids, in the same order."""
    emulator = OdooEmulator(17)
    seed = emulator.seed
    assert seed is not None
    env = emulator.env(active_test=False)
    with emulator.db.transaction():
        env.write("product.product", [seed.products["WATER"]], {"default_code": "COLA"})
    domains: list[list[object]] = [
        [("default_code", "=", "COLA")],
        [("default_code", "in", ["COLA", "FRIES", "NOPE"])],
        ["|", ("id", "=", False), ("default_code", "=", "COLA")],
        ["|", ("id", "=", seed.products["BURGER"]), ("default_code", "=", "FRIES")],
        ["&", ("default_code", "=", "COLA"), ("lst_price", ">", 2.0)],
        ["!", ("default_code", "=", "COLA")],
        [("default_code", "=", False)],
        [("id", "in", [seed.products["FRIES"], 999])],
    ]
    for domain in domains:
        assert env.search("product.product", domain) == _scan(env, "product.product", domain)
