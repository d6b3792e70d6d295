"""POST /oauth/token: client credentials, Argon2-hashed secrets, ES256 tokens."""

from __future__ import annotations

import base64

import asyncpg
import jwt
import pytest

from tests.app.conftest import Api, Partner


async def token_request(api: Api, **form: str):  # type: ignore[no-untyped-def]
    return await api.client.post("/oauth/token", data=form)


async def test_issue_token_returns_es256_jwt_with_required_claims(
    api: Api, partner: Partner
) -> None:
    response = await token_request(
        api,
        grant_type="client_credentials",
        client_id=partner.client_id,
        client_secret=partner.secret,
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "orders:read orders:write"
    assert body["expires_in"] == api.resources.settings.jwt_access_token_ttl_seconds
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    jwks = (await api.client.get("/.well-known/jwks.json")).json()
    assert header["kid"] == jwks["keys"][0]["kid"]
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(
        token,
        key=key,
        algorithms=["ES256"],
        audience="kakehashi-api",
        issuer="https://kakehashi.local",
    )
    assert claims["sub"] == partner.client_id
    assert claims["scope"] == "orders:read orders:write"
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert len(claims["jti"]) == 32


async def test_issue_token_accepts_http_basic_client_authentication(
    api: Api, partner: Partner
) -> None:
    basic = base64.b64encode(f"{partner.client_id}:{partner.secret}".encode()).decode()

    response = await api.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "orders:read"},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 200
    assert response.json()["scope"] == "orders:read"


async def test_issued_token_grants_access_to_orders(api: Api, partner: Partner) -> None:
    token = (
        await token_request(
            api,
            grant_type="client_credentials",
            client_id=partner.client_id,
            client_secret=partner.secret,
            scope="orders:read",
        )
    ).json()["access_token"]

    response = await api.client.get("/v1/orders", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200


async def test_reject_token_request_when_secret_wrong(api: Api, partner: Partner) -> None:
    response = await token_request(
        api, grant_type="client_credentials", client_id=partner.client_id, client_secret="nope"
    )

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["cache-control"] == "no-store"
    problem = response.json()
    assert problem["error"] == "invalid_client"
    assert "nope" not in response.text


async def test_reject_token_request_when_client_unknown(api: Api) -> None:
    response = await token_request(
        api, grant_type="client_credentials", client_id="nobody", client_secret="x"
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_reject_token_request_when_client_disabled(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    await db.execute(
        "update partner_clients set is_active = false where client_id = $1", partner.client_id
    )

    response = await token_request(
        api,
        grant_type="client_credentials",
        client_id=partner.client_id,
        client_secret=partner.secret,
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        pytest.param({"grant_type": "password"}, 400, "unsupported_grant_type", id="grant-type"),
        pytest.param({"grant_type": "client_credentials"}, 400, "invalid_request", id="no-client"),
        pytest.param(
            {"grant_type": "client_credentials", "scope": "orders:admin"},
            400,
            "invalid_scope",
            id="unknown-scope",
        ),
    ],
)
async def test_reject_token_request_when_malformed(
    api: Api, partner: Partner, form: dict[str, str], status: int, error: str
) -> None:
    if form.get("scope"):
        form = {**form, "client_id": partner.client_id, "client_secret": partner.secret}

    response = await token_request(api, **form)

    assert response.status_code == status
    assert response.json()["error"] == error


async def test_client_secret_is_stored_only_as_argon2_hash(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    stored = await db.fetchval(
        "select secret_hash from partner_clients where client_id = $1", partner.client_id
    )

    assert stored.startswith("$argon2id$")
    assert partner.secret not in stored
