"""What is wrong with an operator's settings, one line per problem, before anything starts.

``read`` builds the Settings as ``main()`` needs them, or returns every
problem it found instead: the TOML file named by ``EDGEHUB_CONFIG`` missing,
unreadable or not TOML; a name that is a near miss of a setting's (with the
setting it most likely meant); a value a setting cannot take. Each line names
the variable (or the TOML key and the file) so the operator knows what to
edit, and never shows a secret's value. Printing them and exiting non-zero
is ``main()``'s job: under systemd the unit then fails at once with the
reason in the journal, instead of starting and dying on first use.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.settings import (
    CONFIG_VARIABLE,
    NAMES,
    Settings,
    field_of,
    load_settings,
    nearest_setting,
)

_PREFIX = "EDGEHUB_"
_OPERATOR_NAME = {place: name for name, place in NAMES.items()}


def read(
    environ: Mapping[str, str],
) -> tuple[Settings | None, list[str], dict[str, Any] | None]:
    """The Settings, or None and the problems that keep them from being built; and the
    TOML file's table ({} without one, None when unreadable), read once for all three."""
    table, problems = _config_table(environ)
    problems += _typos(environ, table)
    if table is None:  # the file is broken: its values cannot be checked
        return None, problems, None
    try:
        settings = load_settings(table)
    except ValidationError as exc:
        problems += [_describe(error, environ, table) for error in exc.errors()]
        return None, problems, table
    return (None, problems, table) if problems else (settings, [], table)


def _config_table(environ: Mapping[str, str]) -> tuple[dict[str, Any] | None, list[str]]:
    """The TOML file's table ({} without a file), or None and why it cannot be read."""
    name = environ.get(CONFIG_VARIABLE)
    if not name:
        return {}, []
    path = Path(name).absolute()
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh), []
    except FileNotFoundError:
        return None, [f"{CONFIG_VARIABLE}: no file at {path}"]
    except OSError as exc:
        return None, [f"{CONFIG_VARIABLE}: cannot read {path}: {exc.strerror or exc}"]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [f"{CONFIG_VARIABLE}: {path} is not valid TOML: {exc}"]


def _typos(environ: Mapping[str, str], table: dict[str, Any] | None) -> list[str]:
    found = []
    for name in sorted(environ):
        if not name.upper().startswith(_PREFIX) or name == CONFIG_VARIABLE:
            continue
        meant = nearest_setting(name[len(_PREFIX) :])
        if meant is not None:
            found.append(f"{name} is not a setting; did you mean {_PREFIX}{meant.upper()}?")
    for key in sorted(table or {}):
        meant = nearest_setting(key)
        if meant is not None:
            found.append(f"{key} in {_file(environ)} is not a setting; did you mean {meant}?")
    return found


def _describe(error: Any, environ: Mapping[str, str], table: dict[str, Any]) -> str:
    """``EDGEHUB_PORT='80a': Input should be a valid integer`` for one pydantic error."""
    loc = [str(part) for part in error["loc"]]
    # A group's field is reported by the name the operator set: ("server", "port") is port.
    field = _OPERATOR_NAME.get((loc[0], loc[1]), loc[0]) if len(loc) > 1 else "".join(loc) or "?"
    secret = _is_secret(field)
    message = str(error["msg"]).removeprefix("Value error, ")
    variable = f"{_PREFIX}{field.upper()}"
    env_names = {name.upper(): name for name in environ}
    if variable in env_names:
        shown = "" if secret else f"={environ[env_names[variable]]!r}"
        return f"{variable}{shown}: {message}"
    keys = {key.lower(): key for key in table}
    if field in keys:
        shown = "" if secret else f" = {table[keys[field]]!r}"
        return f"{keys[field]}{shown} in {_file(environ)}: {message}"
    return f"{variable}: {message}"


def _is_secret(name: str) -> bool:
    """Settings typed ``SecretStr`` (the JWT key, Odoo's API key): never echoed."""
    return name in NAMES and "SecretStr" in repr(field_of(name).annotation)


def _file(environ: Mapping[str, str]) -> str:
    return f"{Path(environ[CONFIG_VARIABLE]).absolute()} ({CONFIG_VARIABLE})"
