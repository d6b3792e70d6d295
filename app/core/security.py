"""Client-secret hashing and ES256 access tokens (RFC 8725 practice).

Signing is pluggable: `LocalSigner` holds a P-256 private key (generated at start-up in
development), `KmsSigner` signs with an AWS KMS ECC_NIST_P256 key (`kms:Sign`, MessageType
RAW) and converts KMS's DER signature to the raw R||S form JWS requires. Either way the
`TokenVerifier` knows the public key by `kid` (the RFC 7638 JWK thumbprint), pins the
algorithm to ES256 and always checks signature, issuer, audience and expiry.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
import jwt
import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ALGORITHM = "ES256"
SCOPES: dict[str, str] = {
    "orders:read": "Read orders and their shipments.",
    "orders:write": "Create orders and change their status.",
}

_password_hasher = PasswordHasher()
# Verified against when the client id is unknown, so response time does not reveal which
# client ids exist.
_DUMMY_HASH = _password_hasher.hash(secrets.token_urlsafe(32))


def hash_client_secret(secret: str) -> str:
    return _password_hasher.hash(secret)


def _verify_sync(secret_hash: str | None, secret: str) -> bool:
    try:
        return _password_hasher.verify(secret_hash or _DUMMY_HASH, secret) and (
            secret_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


async def verify_client_secret(secret_hash: str | None, secret: str) -> bool:
    """Argon2 verification off the event loop (it is deliberately slow)."""
    return await anyio.to_thread.run_sync(_verify_sync, secret_hash, secret)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(32, "big")


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    jwk = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64url(_int_bytes(numbers.x)),
        "y": _b64url(_int_bytes(numbers.y)),
    }
    # RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
    thumbprint = _b64url(hashlib.sha256(orjson.dumps(jwk, option=orjson.OPT_SORT_KEYS)).digest())
    return {**jwk, "kid": thumbprint, "alg": ALGORITHM, "use": "sig"}


def der_to_raw_signature(der: bytes) -> bytes:
    """KMS (like OpenSSL) returns ASN.1 DER; JWS ES256 wants R||S, 32 bytes each."""
    r, s = decode_dss_signature(der)
    return _int_bytes(r) + _int_bytes(s)


class Signer(Protocol):
    kid: str
    public_key: ec.EllipticCurvePublicKey

    async def sign(self, signing_input: bytes) -> bytes:
        """A raw (R||S) ES256 signature of `signing_input`."""
        ...


class LocalSigner:
    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError("ES256 needs a P-256 key")
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.kid = public_jwk(self.public_key)["kid"]

    @classmethod
    def generate(cls) -> LocalSigner:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: str) -> LocalSigner:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("JWT_LOCAL_PRIVATE_KEY_PEM must be an EC P-256 private key")
        return cls(key)

    async def sign(self, signing_input: bytes) -> bytes:
        der = self._private_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        return der_to_raw_signature(der)


class KmsSigner:
    """Signs with an asymmetric KMS key; the private key never leaves KMS."""

    def __init__(self, *, kms_client: Any, key_id: str) -> None:
        self._kms = kms_client
        self._key_id = key_id
        self.public_key: ec.EllipticCurvePublicKey
        self.kid = ""

    async def load(self) -> None:
        """Fetch the public key once (at start-up); it identifies the key as `kid`."""
        response = await anyio.to_thread.run_sync(
            lambda: self._kms.get_public_key(KeyId=self._key_id)
        )
        key = serialization.load_der_public_key(response["PublicKey"])
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise ValueError(f"KMS key {self._key_id} is not an ECC_NIST_P256 key (ES256)")
        self.public_key = key
        self.kid = public_jwk(key)["kid"]

    async def sign(self, signing_input: bytes) -> bytes:
        response = await anyio.to_thread.run_sync(
            lambda: self._kms.sign(
                KeyId=self._key_id,
                Message=signing_input,
                MessageType="RAW",
                SigningAlgorithm="ECDSA_SHA_256",
            )
        )
        return der_to_raw_signature(response["Signature"])


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


class TokenIssuer:
    def __init__(self, *, signer: Signer, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._signer = signer
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl_seconds

    async def issue(self, *, subject: str, scopes: list[str]) -> IssuedToken:
        now = int(time.time())
        header = {"alg": ALGORITHM, "kid": self._signer.kid, "typ": "at+jwt"}
        scope = " ".join(scopes)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "client_id": subject,
            "iat": now,
            "nbf": now,
            "exp": now + self._ttl,
            "jti": uuid.uuid4().hex,
            "scope": scope,
        }
        signing_input = (
            _b64url(orjson.dumps(header)) + "." + _b64url(orjson.dumps(claims))
        ).encode("ascii")
        signature = await self._signer.sign(signing_input)
        token = signing_input.decode("ascii") + "." + _b64url(signature)
        return IssuedToken(access_token=token, expires_in=self._ttl, scope=scope)


class InvalidTokenError(Exception):
    """The bearer token is missing, malformed, expired or not ours (detail is safe to show)."""


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: str
    scopes: frozenset[str]
    token_id: str
    expires_at: int


class TokenVerifier:
    """Verifies access tokens against known public keys (by `kid`).

    Verified tokens are memoised until they expire: the signature check is the most
    expensive step of an authenticated read, and a token's verdict cannot change before
    its expiry (the memo key is the whole token, signature included).
    """

    def __init__(
        self,
        *,
        keys: dict[str, ec.EllipticCurvePublicKey],
        issuer: str,
        audience: str,
        leeway_seconds: int,
        memo_size: int = 4096,
    ) -> None:
        self._keys = dict(keys)
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._memo: OrderedDict[str, Principal] = OrderedDict()
        self._memo_size = memo_size

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [public_jwk(key) for key in self._keys.values()]}

    def verify(self, token: str) -> Principal:
        cached = self._memo.get(token)
        if cached is not None:
            if cached.expires_at + self._leeway > time.time():
                return cached
            del self._memo[token]
            raise InvalidTokenError("the access token has expired")
        principal = self._verify(token)
        self._memo[token] = principal
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("the access token is malformed") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidTokenError("the access token's algorithm is not accepted")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidTokenError("the access token was signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidTokenError("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("the access token is invalid") from exc
        scope = claims.get("scope", "")
        if not isinstance(scope, str) or not isinstance(claims["sub"], str):
            raise InvalidTokenError("the access token is invalid")
        return Principal(
            client_id=claims["sub"],
            scopes=frozenset(scope.split()),
            token_id=str(claims["jti"]),
            expires_at=int(claims["exp"]),
        )
