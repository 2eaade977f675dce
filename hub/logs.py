"""Structured logs: ``event key=value`` lines for people, JSON lines for journald.

Never log payload bodies, PINs, tokens or card data: callers pass ids and
states, not objects. As a second line of defence every formatted line goes
through ``redact``, which masks what looks like a bearer token or JWT, a
``token=``/``pin=``/``password=`` value (a WebSocket URL in an access log
carries ``?token=``), and digit runs that pass the card-number checksum.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

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
    return value


class _KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        extras = " ".join(f"{k}={v}" for k, v in fields.items())
        line = (
            f"{self.formatTime(record)} {record.levelname:<7} {record.name} {record.getMessage()}"
        )
        if extras:
            line += " " + extras
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        # Redacted field by field, before encoding: JSON escaping would hide quotes.
        return json.dumps(_redact_value(doc), default=str)


def setup_logging(level: str = "info", as_json: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if as_json else _KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)


def log_event(
    logger: logging.Logger, message: str, /, level: int = logging.INFO, **fields: Any
) -> None:
    """``log_event(log, "order_transitioned", order=12, src="paid", dst="done")``."""
    logger.log(level, message, extra={"fields": fields})
