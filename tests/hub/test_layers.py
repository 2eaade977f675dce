"""What importing the web app drags in, seen from a fresh interpreter.

The layer contracts themselves are import-linter's (pyproject.toml, run by
``scripts/test``). This is the part only a real import shows: modules loaded
through third-party packages and lazy imports too.
"""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_web_app_does_not_load_httpx() -> None:
    """The web process talks to no one over HTTP: the Odoo client stays in the sync agent."""
    probe = "import json, sys; import hub.app; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(out.stdout)
    assert "hub.app" in loaded
    assert [m for m in loaded if m == "httpx" or m.startswith("httpx.")] == []
