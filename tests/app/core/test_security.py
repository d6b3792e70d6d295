"""Token signing: the local key and AWS KMS (moto), both verifiable as ES256 JWS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from moto import mock_aws

from app.core.security import (
    KmsSigner,
    LocalSigner,
    TokenIssuer,
    TokenVerifier,
    der_to_raw_signature,
    public_jwk,
)

REGION = "ap-northeast-1"


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


def test_der_signature_converts_to_fixed_width_raw() -> None:
    der = encode_dss_signature(1, 2**255 + 7)

    raw = der_to_raw_signature(der)

    assert len(raw) == 64
    assert raw[:32] == (1).to_bytes(32, "big")
    assert int.from_bytes(raw[32:], "big") == 2**255 + 7


def test_kid_is_the_rfc7638_thumbprint() -> None:
    # RFC 7638 §3.1 gives the recipe; recompute it independently via PyJWT's JWK export.
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    import base64
    import hashlib
    import json

    exported = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))
    members = {name: exported[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()

    assert public_jwk(key)["kid"] == expected


async def test_kms_signer_issues_tokens_that_verify(kms: Any) -> None:
    key_arn = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    signer = KmsSigner(kms_client=kms, key_id=key_arn)
    await signer.load()
    issuer = TokenIssuer(signer=signer, issuer="iss", audience="aud", ttl_seconds=300)

    issued = await issuer.issue(subject="partner-a", scopes=["orders:read"])

    header = jwt.get_unverified_header(issued.access_token)
    assert header["alg"] == "ES256"
    assert header["kid"] == signer.kid
    # Independent check with PyJWT and the public key KMS reports.
    public_der = kms.get_public_key(KeyId=key_arn)["PublicKey"]
    public_key = serialization.load_der_public_key(public_der)
    claims = jwt.decode(
        issued.access_token, key=public_key, algorithms=["ES256"], audience="aud", issuer="iss"
    )
    assert claims["sub"] == "partner-a"
    verifier = TokenVerifier(
        keys={signer.kid: signer.public_key}, issuer="iss", audience="aud", leeway_seconds=0
    )
    assert verifier.verify(issued.access_token).scopes == frozenset({"orders:read"})


async def test_kms_signer_signs_with_message_type_raw(kms: Any) -> None:
    key_arn = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    signer = KmsSigner(kms_client=kms, key_id=key_arn)
    await signer.load()
    message = b"header.payload"

    raw = await signer.sign(message)

    # A RAW-message signature verifies over SHA-256(message) with the public key.
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    signer.public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))


async def test_kms_signer_rejects_non_p256_key(kms: Any) -> None:
    key_arn = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    signer = KmsSigner(kms_client=kms, key_id=key_arn)

    with pytest.raises(ValueError, match="not an ECC_NIST_P256 key"):
        await signer.load()


async def test_app_signs_with_kms_when_configured(kms: Any, make_settings: Any) -> None:
    from tests.app.conftest import running_api

    key_arn = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    settings = make_settings(jwt_signer="kms", jwt_kms_key_id=key_arn, aws_region=REGION)
    async with running_api(settings) as api:
        kid = api.resources.issuer._signer.kid
        issued = await api.resources.issuer.issue(subject="partner-x", scopes=["orders:read"])
        jwks = (await api.client.get("/.well-known/jwks.json")).json()

    assert isinstance(api.resources.issuer._signer, KmsSigner)
    assert jwt.get_unverified_header(issued.access_token)["kid"] == kid
    assert jwks["keys"][0]["kid"] == kid


async def test_local_signer_loads_pem_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()

    signer = LocalSigner.from_pem(pem)

    assert signer.kid == public_jwk(key.public_key())["kid"]


def test_verifier_rejects_memoised_token_after_expiry() -> None:
    import time

    from app.core.security import InvalidTokenError, Principal

    verifier = TokenVerifier(keys={}, issuer="i", audience="a", leeway_seconds=0)
    verifier._memo["t"] = Principal("c", frozenset(), "j", expires_at=int(time.time()) - 1)

    with pytest.raises(InvalidTokenError, match="expired"):
        verifier.verify("t")
