"""What importing each layer drags in, seen from a fresh interpreter; every module has a layer.

The layer contracts themselves are import-linter's (pyproject.toml, run by
``scripts/test``). This is the part only a real import shows: modules loaded
through third-party packages and lazy imports too.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _layers() -> list[list[str]]:
    """The modules of each layer of the layers contract, top first."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c["name"].startswith("Imports go down")
    ]
    return [[name.strip() for name in layer.split(":")] for layer in contract["layers"]]


def _loaded_by(code: str) -> list[str]:
    """Every module in ``sys.modules`` after a fresh interpreter runs ``code``."""
    probe = f"import json, sys\n{code}print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def _loaded_after(modules: list[str]) -> list[str]:
    """Every module in ``sys.modules`` after a fresh interpreter imports ``modules``."""
    return _loaded_by(f"import importlib\nfor name in {modules!r}: importlib.import_module(name)\n")


def _loaded_by_commands() -> list[str]:
    """Every module in ``sys.modules`` once ``edgehub`` has built its parser and set up
    logging, as ``hub.cli.main`` does before it runs any command."""
    return _loaded_by(
        "from hub.cli import build_parser\n"
        "from hub.logs import setup_logging\n"
        "build_parser()\n"
        "setup_logging('info', as_json=False)\n"
        "setup_logging('info', as_json=True)\n"
    )


def _of(loaded: list[str], *packages: str) -> list[str]:
    return [m for m in loaded if m.split(".")[0] in packages]


def _walk(name: str) -> list[str]:
    """``name`` and, for a package, every module under it."""
    module = import_module(name)
    found = [name]
    if hasattr(module, "__path__"):
        found += [m.name for m in pkgutil.walk_packages(module.__path__, f"{name}.")]
    return found


def test_importing_the_web_app_loads_neither_paho_nor_httpx() -> None:
    """The web process speaks to no broker and no Odoo: paho and httpx stay in the daemons."""
    loaded = _loaded_after(["hub.web.app"])
    assert "hub.web.app" in loaded
    assert _of(loaded, "paho", "httpx") == []


def test_importing_the_web_app_loads_no_redis_client() -> None:
    """redis-py is loaded by the cache, the wake-ups and the Redis probe only when a Redis
    is configured: a hub without one, and every command but ``serve``, starts without it."""
    loaded = _loaded_after(["hub.web.app", "hub.periodic.plan", "hub.web.realtime.wakeup"])
    assert "hub.cache" in loaded
    assert _of(loaded, "redis") == []


def test_the_web_app_and_its_tokens_load_no_cryptography() -> None:
    """Our JWTs are HS256: PyJWT's RSA and EC keys (cryptography, ~40 ms of every start of
    ``serve`` and ``token``) stay unloaded, which holds only while hub.web.tokens is the one
    module that imports litestar.security.jwt."""
    loaded = _loaded_after(["hub.web.app", "hub.web.tokens"])
    assert "jwt" in loaded
    assert _of(loaded, "cryptography") == []


def test_the_edgehub_command_loads_only_what_its_command_runs() -> None:
    """Most of a short command's CPU was imports (issue #13): ``edgehub token``, ``status``,
    ``device list`` start without the web framework, the server, the MQTT, HTTP and Redis
    clients, or rich (which structlog would load for tracebacks we do not render)."""
    loaded = _loaded_by_commands()
    assert "hub.cli" in loaded and "structlog" in loaded
    heavy = ("litestar", "uvicorn", "paho", "httpx", "redis", "rich", "pygments")
    assert _of(loaded, *heavy) == []


def test_the_daemons_load_no_web_framework_and_no_console_library() -> None:
    """``edgehub bridge``, ``printer`` and ``sync`` load what they speak and no more: rich
    is loaded by ``sync --once``'s progress bar only, pygments (httpx's command-line
    client) never."""
    loaded = _loaded_after(
        ["cloud_sync.daemon", "firmware_bridge.bridge", "firmware_bridge.printer"]
    )
    assert "httpx" in loaded and "paho" in loaded
    assert _of(loaded, "litestar", "uvicorn", "redis", "rich", "pygments") == []


def test_importing_the_core_loads_no_web_framework_and_no_client_library() -> None:
    """Every module of the core imports without Litestar, paho or httpx: a daemon on top of it
    loads only what it speaks itself."""
    core = [m for name in _layers()[-1] for m in _walk(name)]
    loaded = _loaded_after(core)
    assert set(core) <= set(loaded)
    assert _of(loaded, "litestar", "paho", "httpx") == []


def test_every_module_of_hub_is_in_one_layer() -> None:
    """A new module of hub must be placed in a layer, or import-linter would not guard it."""
    placed = [name for layer in _layers() for name in layer]
    assert len(placed) == len(set(placed))

    def places(module: str) -> list[str]:
        return [p for p in placed if module == p or module.startswith(p + ".")]

    def split_up(package: str) -> bool:
        """A package whose modules are placed one by one (``hub.auth``) needs no place."""
        return any(p.startswith(package + ".") for p in placed)

    modules = [m for m in _walk("hub") if m != "hub" and not split_up(m)]
    assert [m for m in modules if not places(m)] == [], "add these to a layer in pyproject.toml"
    assert [m for m in modules if len(places(m)) > 1] == []
