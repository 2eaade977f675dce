"""The installed EdgeHub's version, as ``edgehub --version``, ``/health`` and lock files show it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("edgehub")
except PackageNotFoundError:  # run from a checkout that was never installed
    VERSION = "unknown"
