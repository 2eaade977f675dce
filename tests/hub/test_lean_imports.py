"""``hidden``: an optional package looks missing inside the block only, and a loaded one stays."""

from __future__ import annotations

import importlib
import sys

import pytest

from hub.lean_imports import hidden


def test_a_hidden_package_fails_to_import_inside_the_block_only() -> None:
    """A library loading inside the block takes its not-installed fallback; afterwards the
    package imports as usual."""
    name = "xml.dom.minidom"  # any stdlib module this test process has not loaded
    sys.modules.pop(name, None)
    with hidden(name), pytest.raises(ImportError):
        importlib.import_module(name)
    assert name not in sys.modules
    assert importlib.import_module(name).__name__ == name


def test_a_package_already_loaded_is_left_alone() -> None:
    """A library loading now sees what is already loaded, as it would have anyway."""
    import json

    with hidden("json"):
        assert importlib.import_module("json") is json
    assert sys.modules["json"] is json
