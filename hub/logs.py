"""Structured logs on structlog: ``event key=value`` lines for people, JSON lines for journald.

Code logs events with fields, ``log.info("order_transitioned", order=12, src="paid")``,
on a logger from ``get_logger``; the fields stay fields in JSON. Litestar's,
uvicorn's and httpx's stdlib records go through the same processors, so every
line has one shape. (Litestar's StructlogPlugin is not used: the daemons log
without Litestar, and the plugin would reconfigure logging when the app starts
and add its own request log beside uvicorn's access log.)

Never log payload bodies, PINs, tokens or card data: callers pass ids and
states, not objects. As a second line of defence every event goes through
``redact_processor``: a field named like a secret (``pin``, ``token``, …) is
masked whole, and ``redact`` masks, in every text, what looks like a bearer
token or JWT, a ``token=``/``pin=``/``password=`` value (a WebSocket URL in an
access log carries ``?token=``), and digit runs that pass the card-number
checksum.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, cast

from hub.lean_imports import hidden

# structlog would load rich (~50 ms) for tracebacks we do not render (hub.lean_imports).
with hidden("rich"):
    import structlog
    from structlog.typing import EventDict, Processor, WrappedLogger

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
_SECRET_PARAM = re.compile(
    r"(?i)([\"']?\b(?:access_token|token|pin|password|secret|api_key|secret_key)[\"']?\s*[=:]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^&\s,;}\"']+)"
)
_SECRET_KEYS = frozenset(
    {"access_token", "token", "pin", "password", "secret", "api_key", "secret_key", "authorization"}
)
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


def _mask_param(match: re.Match[str]) -> str:
    value = match.group(2)
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group(1)}{quote}[redacted]{quote}"


def redact(text: str) -> str:
    """Mask secrets in one piece of log text (see the module docstring)."""
    text = _JWT.sub("[jwt]", text)
    text = _BEARER.sub(r"\1 [redacted]", text)
    text = _SECRET_PARAM.sub(_mask_param, text)
    return _CARD.sub(_mask_card, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            k: "[redacted]" if str(k).lower() in _SECRET_KEYS else _redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))  # a Path, a URL, an exception: as it would be printed


def redact_processor(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The redaction every event goes through, whoever logged it (see the module docstring)."""
    return cast(EventDict, _redact_value(event))


def _as_record(_logger: WrappedLogger, _method: str, event: EventDict) -> Any:
    """A structlog event as a stdlib record: the event name its message, the fields in
    ``record.fields``, a traceback its ``exc_info``. Every handler (pytest's caplog too)
    then sees an ordinary record, and ``_record_fields`` gives the fields back."""
    name = event.pop("event")
    exc_info = event.pop("exc_info", None)
    return (name,), {"exc_info": exc_info, "extra": {"fields": event}}


def _record_fields(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The fields a record carries (``record.fields``), as fields of the event."""
    record = event.get("_record")
    fields = getattr(record, "fields", None) if record is not None else None
    if isinstance(fields, dict):
        event.update(fields)
    return event


def _exc_key(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """JSON lines carry a traceback as ``exc``, as they always have."""
    if "exception" in event:
        event["exc"] = event.pop("exception")
    return event


def _upper_level(value: object) -> str:
    return str(value).upper()


def _console_renderer() -> structlog.dev.ConsoleRenderer:
    """``2026-05-01T10:00:00.000000Z INFO    edgehub.sync odoo_connected url=… version=17``."""

    def column(key_style: str | None, render: Any = str, width: int = 0) -> Any:
        return structlog.dev.KeyValueColumnFormatter(
            key_style=key_style, value_style="", reset_style="", value_repr=render, width=width
        )

    return structlog.dev.ConsoleRenderer(
        sort_keys=False,
        exception_formatter=structlog.dev.plain_traceback,  # no locals: they may hold a PIN
        columns=[
            structlog.dev.Column("ts", column(None)),
            structlog.dev.Column("level", column(None, _upper_level, width=7)),
            structlog.dev.Column("logger", column(None)),
            structlog.dev.Column("event", column(None)),
            structlog.dev.Column("", column("")),  # the fields, key=value in their order
        ],
    )


def _formatter(as_json: bool) -> logging.Formatter:
    """One formatter for structlog's events and every stdlib record alike."""
    shared: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.processors.format_exc_info,
    ]
    renderer: list[Processor] = (
        [_exc_key, structlog.processors.JSONRenderer(default=str)]
        if as_json
        else [_console_renderer()]
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[_record_fields],
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_processor,
            *renderer,
        ],
    )


def setup_logging(level: str = "info", as_json: bool = False) -> None:
    """Send every logger's records to stderr, rendered as ``as_json`` says, from ``level`` up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger that hands its events to the stdlib logger ``name``: its level
    and handlers (``setup_logging``) decide, its records render as every other record.

    Configured here rather than by ``structlog.configure``: no global state, so a
    test or a library that configures structlog changes nothing of ours."""
    return cast(
        structlog.stdlib.BoundLogger,
        structlog.wrap_logger(
            logging.getLogger(name),
            processors=[structlog.stdlib.filter_by_level, _as_record],
            wrapper_class=structlog.stdlib.BoundLogger,
        ),
    )
