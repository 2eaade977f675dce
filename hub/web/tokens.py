"""JWTs for staff and devices, through Litestar's ``JWTAuth``.

The token names the user (``sub``) and carries the role for clients to read;
the hub itself re-reads the user on every request, so a deactivated user or a
changed role takes effect at once rather than at expiry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from litestar.connection import ASGIConnection

from hub.auth.users import Actor, get_actor
from hub.cache import ACTOR
from hub.lean_imports import hidden
from hub.settings import Settings

# PyJWT would load cryptography (~40 ms) for RSA and EC keys; our tokens are HS256
# (hub.lean_imports). The one module of the hub that loads litestar.security.jwt.
with hidden("cryptography"):
    import jwt
    from jwt.algorithms import HMACAlgorithm
    from jwt.api_jws import PyJWS
    from jwt.exceptions import DecodeError
    from jwt.utils import base64url_decode, base64url_encode
    from litestar.security.jwt import JWTAuth, Token

PUBLIC_PATHS = ["/health", "/metrics", "/api/v1/auth/token", "/schema"]


class _SecretCheckedOnce(HMACAlgorithm):
    """HMAC that inspects each secret once, not on every token it verifies.

    PyJWT's ``prepare_key`` makes sure an HMAC secret is not a public key in
    disguise (PEM, SSH, DER, a JWK: the algorithm-confusion attack) before
    every verification: about 20 us of a 100 us decode, a parse of the secret
    as JSON failing with an exception among it. Its verdict depends on the
    secret alone, and the hub verifies with one or two secrets, so the prepared
    key is kept per secret; a secret it refuses is refused again each time.
    """

    KEPT = 8

    def __init__(self, hash_alg: Any) -> None:
        super().__init__(hash_alg)
        self._prepared: dict[str | bytes, bytes] = {}

    def prepare_key(self, key: str | bytes) -> bytes:
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = super().prepare_key(key)
            if len(self._prepared) < self.KEPT:
                self._prepared[key] = prepared
        return prepared


_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class _SegmentsCheckedInC(PyJWS):
    """PyJWS that checks a token's segments against the base64url alphabet in C.

    PyJWT tests each byte of each segment in a Python generator (a guard against
    junk such as ``!!!!``), paid by every new WebSocket client: with this check a
    fresh token decodes in 21 us instead of 37 (timed by hand, not by bench/:
    docs/benchmarks.md, "Sign-in got cheaper too"). A segment of nothing but the
    alphabet whose length can be base64 (the tokens the hub issues) is checked
    here with one ``bytes.translate``, then decoded and re-encoded as PyJWT does;
    anything else (padding, junk, a bad length) gets PyJWT's own check and error.
    """

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        if segment.translate(None, _BASE64URL) or len(segment) % 4 == 1:
            return PyJWS._decode_base64url_segment(segment, name)
        decoded = base64url_decode(segment)  # the alphabet only and a possible length: decodes
        if base64url_encode(decoded) != segment:
            raise DecodeError(f"Invalid {name} padding")
        return decoded


def _verifier() -> jwt.PyJWT:
    """PyJWT with the HS* algorithms and the segment check above; everything else as
    ``jwt.decode`` has it."""
    verifier = jwt.PyJWT()
    jws = verifier._jws = _SegmentsCheckedInC(options=verifier._jws.options)
    for name, hash_alg in (
        ("HS256", HMACAlgorithm.SHA256),
        ("HS384", HMACAlgorithm.SHA384),
        ("HS512", HMACAlgorithm.SHA512),
    ):
        jws.unregister_algorithm(name)
        jws.register_algorithm(name, _SecretCheckedOnce(hash_alg))
    return verifier


_VERIFIER = _verifier()


class CheckedToken(Token):
    """A ``Token`` that remembers the tokens it has already verified.

    A till sends the same bearer token with every request; checking its
    signature and claims again each time is most of what authentication costs
    (PyJWT's decoding is pure Python). A token string that passed once, with
    the same key and options, is answered from memory until its ``exp``: the
    string is the whole token, so nothing else can match it. At most
    ``REMEMBERED`` are kept; when full, the oldest half is forgotten.
    """

    REMEMBERED = 1024
    _verified: dict[tuple[Any, ...], Token] = {}

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> Self:
        key = (
            encoded_token,
            secret,
            algorithm,
            _hashable(audience),
            _hashable(issuer),
            _hashable(require_claims),
            verify_exp,
            verify_nbf,
            strict_audience,
        )
        token = cls._verified.get(key)
        if isinstance(token, cls) and (not verify_exp or token.exp > datetime.now(UTC)):
            return token
        token = super().decode(
            encoded_token,
            secret,
            algorithm,
            audience,
            issuer,
            require_claims,
            verify_exp,
            verify_nbf,
            strict_audience,
        )
        if len(cls._verified) >= cls.REMEMBERED:
            for old in list(cls._verified)[: cls.REMEMBERED // 2]:
                cls._verified.pop(old, None)
        cls._verified[key] = token
        return token

    @classmethod
    def decode_payload(
        cls,
        encoded_token: str,
        secret: str,
        algorithms: list[str],
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        options: Any = None,
    ) -> Any:
        """Litestar's verification, through the PyJWT whose HMAC checks a secret once."""
        return _VERIFIER.decode(
            jwt=encoded_token,
            key=secret,
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            options=options,
        )


def _hashable(value: str | Sequence[str] | None) -> str | tuple[str, ...] | None:
    return value if value is None or isinstance(value, str) else tuple(value)


async def _retrieve_actor(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
    """The token's user, from the cache (30 min) or SQLite. A change to a user
    appends ``catalog.updated`` naming it, which drops the cached entry."""
    hub = connection.app.state.hub
    try:
        user_id = int(token.sub)
    except ValueError:
        return None

    async def load() -> dict[str, Any] | None:
        actor = await hub.store.read(get_actor, user_id)
        return {"id": actor.id, "role": actor.role, "name": actor.name} if actor else None

    found = await hub.cache.get_or_load(ACTOR, str(user_id), load)
    return Actor(**found) if found else None


def make_jwt_auth(settings: Settings) -> JWTAuth[Actor, Token]:
    return JWTAuth[Actor, Token](
        token_secret=settings.jwt_secret(),
        retrieve_user_handler=_retrieve_actor,
        token_cls=CheckedToken,
        exclude=PUBLIC_PATHS,
        default_token_expiration=timedelta(seconds=settings.auth.token_ttl_seconds),
    )


def issue_token(auth: JWTAuth[Actor, Token], actor: Actor, ttl_seconds: float) -> str:
    return auth.create_token(
        identifier=str(actor.id),
        token_expiration=timedelta(seconds=ttl_seconds),
        token_extras={"role": actor.role, "name": actor.name},
    )
