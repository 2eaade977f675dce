"""Remembered tokens: a verified token is answered from memory, but never past its expiry,
never for another key, and never for a string that differs by a byte."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from litestar.exceptions import NotAuthorizedException

from hub.web.tokens import CheckedToken

SECRET = "s" * 32


def encoded(*, seconds: float, sub: str = "7", secret: str = SECRET) -> str:
    token = CheckedToken(exp=datetime.now(UTC) + timedelta(seconds=seconds), sub=sub)
    return token.encode(secret, "HS256")


def test_a_verified_token_is_remembered_and_still_decodes_the_same() -> None:
    text = encoded(seconds=60)
    first = CheckedToken.decode(text, SECRET, "HS256")
    assert CheckedToken.decode(text, SECRET, "HS256") is first
    assert first.sub == "7"


def test_a_remembered_token_is_refused_once_expired() -> None:
    text = encoded(seconds=1)
    remembered = CheckedToken.decode(text, SECRET, "HS256")
    # exp is whole seconds, so up to a second away: wait for it, not for a fixed 1.2 s.
    time.sleep(max(0.0, remembered.exp.timestamp() - time.time()) + 0.01)
    with pytest.raises(NotAuthorizedException):
        CheckedToken.decode(text, SECRET, "HS256")


def test_a_remembered_token_is_refused_under_another_key() -> None:
    text = encoded(seconds=60)
    CheckedToken.decode(text, SECRET, "HS256")
    with pytest.raises(NotAuthorizedException):
        CheckedToken.decode(text, "t" * 32, "HS256")


def test_a_token_differing_by_one_byte_is_verified_afresh_and_refused() -> None:
    text = encoded(seconds=60)
    CheckedToken.decode(text, SECRET, "HS256")
    head, body, signature = text.split(".")
    forged = ".".join([head, body, ("A" if signature[0] != "A" else "B") + signature[1:]])
    with pytest.raises(NotAuthorizedException):
        CheckedToken.decode(forged, SECRET, "HS256")


def test_memory_stays_bounded() -> None:
    for n in range(CheckedToken.REMEMBERED + 10):
        CheckedToken.decode(encoded(seconds=60, sub=str(n)), SECRET, "HS256")
    assert len(CheckedToken._verified) <= CheckedToken.REMEMBERED
