"""Bearer token checks on the API (RFC 6750 challenges, RFC 8725 verification)."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.app.conftest import Api, Partner


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(partner: Partner, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {
        "iss": "https://kakehashi.local",
        "aud": "kakehashi-api",
        "sub": partner.client_id,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "scope": "orders:read orders:write",
    }
    values.update(overrides)
    return values


async def sign_with_app_key(api: Api, payload: dict[str, Any], **header: Any) -> str:
    """A token signed by the app's real signer, with chosen claims."""
    signer = api.resources.issuer._signer
    head = {"alg": "ES256", "kid": signer.kid, "typ": "at+jwt", **header}
    signing_input = f"{_b64(orjson.dumps(head))}.{_b64(orjson.dumps(payload))}".encode()
    return f"{signing_input.decode()}.{_b64(await signer.sign(signing_input))}"


async def get_orders(api: Api, authorization: str | None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await api.client.get("/v1/orders", headers=headers)


async def test_accept_token_when_valid(api: Api, partner: Partner) -> None:
    token = await sign_with_app_key(api, claims(partner))

    response = await get_orders(api, f"Bearer {token}")

    assert response.status_code == 200


async def test_reject_request_when_token_missing(api: Api) -> None:
    response = await get_orders(api, None)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="kakehashi"'
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_reject_request_when_scheme_not_bearer(api: Api) -> None:
    response = await get_orders(api, "Basic Zm9vOmJhcg==")

    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        pytest.param({"exp": int(time.time()) - 3600}, "expired", id="expired"),
        pytest.param({"aud": "someone-else"}, "invalid", id="wrong-audience"),
        pytest.param({"iss": "https://evil.example"}, "invalid", id="wrong-issuer"),
        pytest.param({"exp": None}, "invalid", id="no-expiry"),
    ],
)
async def test_reject_request_when_claims_invalid(
    api: Api, partner: Partner, overrides: dict[str, Any], detail: str
) -> None:
    payload = {k: v for k, v in claims(partner, **overrides).items() if v is not None}
    token = await sign_with_app_key(api, payload)

    response = await get_orders(api, f"Bearer {token}")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert detail in response.json()["detail"]


async def test_reject_request_when_algorithm_is_none(api: Api, partner: Partner) -> None:
    head = _b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    token = f"{head}.{_b64(orjson.dumps(claims(partner)))}."

    response = await get_orders(api, f"Bearer {token}")

    assert response.status_code == 401


async def test_reject_request_when_hs256_signed_with_public_key(api: Api, partner: Partner) -> None:
    # The classic algorithm-confusion attack: HMAC keyed with the (public) verification key.
    public_pem = api.resources.issuer._signer.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = _b64(orjson.dumps({"alg": "HS256", "kid": api.resources.issuer._signer.kid}))
    body = _b64(orjson.dumps(claims(partner)))
    import hashlib
    import hmac

    signature = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    token = f"{head}.{body}.{_b64(signature)}"

    response = await get_orders(api, f"Bearer {token}")

    assert response.status_code == 401


async def test_reject_request_when_signed_by_unknown_key(api: Api, partner: Partner) -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(partner), other_key, algorithm="ES256", headers={"kid": "attacker"})

    response = await get_orders(api, f"Bearer {token}")

    assert response.status_code == 401
    assert "unknown key" in response.json()["detail"]


async def test_reject_request_when_signature_tampered(api: Api, partner: Partner) -> None:
    token = await sign_with_app_key(api, claims(partner))
    head, _payload, signature = token.split(".")
    forged = _b64(orjson.dumps(claims(partner, sub="partner-someone-else")))

    response = await get_orders(api, f"Bearer {head}.{forged}.{signature}")

    assert response.status_code == 401


async def test_reject_request_when_scope_missing(api: Api, partner: Partner) -> None:
    response = await api.client.get("/v1/orders", headers=partner.auth(partner.write_token))

    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer realm="kakehashi", error="insufficient_scope", scope="orders:read"'
    )
    assert response.json()["type"].endswith("/insufficient-scope")
