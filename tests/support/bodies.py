"""An answer read as the type its route documents in the OpenAPI document
(``hub.web.api.response_bodies``, ``hub.web.api.operations_bodies``): a field missing, or of
another type than documented, fails the test that reads it."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import msgspec

T = TypeVar("T")


def typed(answer: httpx.Response, kind: type[T]) -> T:
    assert answer.is_success, answer.text
    body: Any = answer.json()
    return msgspec.convert(body, kind, strict=True)
