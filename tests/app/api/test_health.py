"""/healthz, /readyz, /version and the JWKS."""

from __future__ import annotations

import asyncpg

from app.core.config import project_version
from tests.app.conftest import (
    TEST_DATABASE,
    Api,
    asyncpg_dsn,
    drop_database,
    recreate_database,
    running_api,
)


async def test_healthz_reports_ok(api: Api) -> None:
    response = await api.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_database_and_cache(api: Api) -> None:
    response = await api.client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["cache"]["status"] == "ok"


async def test_readyz_returns_503_when_database_unreachable(make_settings) -> None:  # type: ignore[no-untyped-def]
    from tests.app.conftest import free_port

    settings = make_settings(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere",
        database_connect_timeout_seconds=0.5,
    )
    async with running_api(settings) as api:
        response = await api.client.get("/readyz")
        liveness = await api.client.get("/healthz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["checks"]["database"]["status"] == "down"
    assert liveness.status_code == 200


async def test_readyz_returns_503_when_database_read_only(make_settings) -> None:  # type: ignore[no-untyped-def]
    # What the old writer looks like after an Aurora failover: every transaction read-only.
    url = await recreate_database(f"{TEST_DATABASE}_readonly")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(
            f"alter database {TEST_DATABASE}_readonly set default_transaction_read_only = on"
        )
    finally:
        await conn.close()
    try:
        async with running_api(make_settings(database_url=url)) as api:
            response = await api.client.get("/readyz")
    finally:
        await drop_database(f"{TEST_DATABASE}_readonly")

    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "read-only"


async def test_version_reports_pyproject_version_and_revision(make_settings) -> None:  # type: ignore[no-untyped-def]
    async with running_api(make_settings(git_revision="abc1234")) as api:
        response = await api.client.get("/version")

    assert response.status_code == 200
    assert response.json() == {
        "version": project_version(),
        "git_revision": "abc1234",
        "environment": "test",
    }
    assert project_version() != "0.0.0+unknown"


async def test_jwks_publishes_the_signing_key(api: Api) -> None:
    response = await api.client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["alg"] == "ES256"
    assert key["kid"] == api.resources.issuer._signer.kid
