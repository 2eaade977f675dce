"""Remembered tokens: a verified token is answered from memory, but never past its expiry,
never for another key, and never for a string that differs by a byte."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from jwt.api_jws import PyJWS
from jwt.exceptions import DecodeError, InvalidKeyError
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from hub.web.tokens import CheckedToken, _SegmentsCheckedInC

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
    # exp is encoded in whole seconds, rounded down: asked for 1 s it can be 50 ms
    # away and pass before the first decode on a loaded box; 2 s leaves at least 1.
    text = encoded(seconds=2)
    remembered = CheckedToken.decode(text, SECRET, "HS256")
    # Wait for exp itself, not for a fixed time.
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


def test_a_public_key_as_the_secret_is_refused_every_time() -> None:
    """The check PyJWT makes of an HMAC secret (not a public key: algorithm confusion)
    still refuses, on every decode, once the hub checks each secret only once."""
    pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----\n"
    text = encoded(seconds=60)
    for _ in range(2):
        with pytest.raises(InvalidKeyError):
            CheckedToken.decode(text, pem, "HS256")
    with pytest.raises(InvalidKeyError):  # as Litestar's own Token does
        Token.decode(text, pem, "HS256")


def test_each_secret_verifies_only_its_own_tokens() -> None:
    """A kept secret is kept per secret: a token signed with one never passes with another."""
    other = "o" * 32
    mine, theirs = encoded(seconds=60, sub="1"), encoded(seconds=60, sub="2", secret=other)
    assert CheckedToken.decode(mine, SECRET, "HS256").sub == "1"
    assert CheckedToken.decode(theirs, other, "HS256").sub == "2"
    with pytest.raises(NotAuthorizedException):
        CheckedToken.decode(theirs, SECRET, "HS256")
    with pytest.raises(NotAuthorizedException):
        CheckedToken.decode(mine, other, "HS256")


def _variants(text: str) -> list[str]:
    """A token mangled in the ways PyJWT's segment check is about: junk, padding, lengths."""
    head, body, signature = text.split(".")
    out = []
    for i in range(3):
        parts = [head, body, signature]
        part = parts[i]
        for mangled in (
            part + "=",
            part + "==",
            part + "===",
            part + "!",
            part[:-1] + "!",
            part[:4] + "+" + part[5:],
            part[:4] + "/" + part[5:],
            part[:-1],
            part[:-2],
            part + "A",
            "!!!!",
            "",
        ):
            parts[i] = mangled
            out.append(".".join(parts))
    return out


def test_mangled_segments_get_the_verdict_litestars_token_gives() -> None:
    """The alphabet check done in C must accept and refuse exactly what PyJWT's does."""
    text = encoded(seconds=60)
    accepted = 0
    for variant in [text, *_variants(text)]:
        try:
            expected: str | None = Token.decode(variant, SECRET, "HS256").sub
        except NotAuthorizedException:
            expected = None
        try:
            got: str | None = CheckedToken.decode(variant, SECRET, "HS256").sub
        except NotAuthorizedException:
            got = None
        assert got == expected, variant
        accepted += got is not None
    assert accepted >= 2  # the token itself and a padded signature: both verdicts were asked


def _verdict(decode: Callable[[bytes, str], bytes], segment: bytes) -> tuple[bool, bytes | str]:
    try:
        return True, decode(segment, "payload")
    except DecodeError as exc:
        return False, str(exc)


def test_every_short_segment_gets_pyjwts_own_verdict() -> None:
    """The check done in C is held to the installed PyJWT's, byte for byte and error for
    error, on every segment of up to five characters drawn from letters with and
    without low bits, both signs, padding and junk in and out of ASCII: a PyJWT that
    came to refuse more (a minor release within ``pyjwt<3``) fails here instead of letting
    tokens through."""
    fast, pyjwts = _SegmentsCheckedInC._decode_base64url_segment, PyJWS._decode_base64url_segment
    for length in range(6):
        for chars in itertools.product(b"AQw-_=!/\xff", repeat=length):
            segment = bytes(chars)
            assert _verdict(fast, segment) == _verdict(pyjwts, segment), segment
