"""Every error is application/problem+json with the request id; nothing internal leaks."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from tests.app.conftest import Api, Partner, running_api


async def test_unknown_path_returns_problem_404(api: Api) -> None:
    response = await api.client.get("/no/such/thing")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 404
    assert problem["title"] == "Not Found"
    assert problem["instance"] == "/no/such/thing"
    assert problem["request_id"] == response.headers["x-request-id"]


async def test_wrong_method_returns_problem_405(api: Api) -> None:
    response = await api.client.delete("/healthz")

    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET"
    assert response.json()["type"].endswith("/method-not-allowed")


async def test_malformed_json_returns_problem_422(api: Api, partner: Partner) -> None:
    response = await api.client.post(
        "/v1/orders",
        content=b'{"currency": ',
        headers={**partner.auth(), "Idempotency-Key": "k", "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["type"] == "json_invalid"


async def test_validation_problem_does_not_echo_input(api: Api, partner: Partner) -> None:
    response = await api.client.post(
        "/oauth/token", data={"grant_type": "x" * 100, "client_secret": "hunter2-secret"}
    )

    assert response.status_code == 422
    assert "hunter2-secret" not in response.text


async def test_unhandled_error_returns_problem_500_without_internals(make_settings) -> None:  # type: ignore[no-untyped-def]
    async with running_api(make_settings()) as api:
        boom = APIRouter()

        @boom.get("/boom")
        async def explode() -> None:
            raise RuntimeError("select secret_column from internal_table")

        api.app.include_router(boom)

        response = await api.client.get("/boom", headers={"X-Request-ID": "req-500-test"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-500-test"
    problem = response.json()
    assert problem["request_id"] == "req-500-test"
    assert problem["status"] == 500
    assert "select" not in response.text
    assert "Traceback" not in response.text


async def test_request_id_is_propagated_from_header(api: Api) -> None:
    response = await api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})

    assert response.headers["x-request-id"] == "abc-123"


async def test_request_id_falls_back_to_alb_trace_root(api: Api) -> None:
    response = await api.client.get(
        "/healthz",
        headers={"X-Amzn-Trace-Id": "Self=1-aaa;Root=1-67891233-abcdef012345678912345678"},
    )

    assert response.headers["x-request-id"] == "1-67891233-abcdef012345678912345678"


async def test_request_id_is_generated_when_header_unsafe(api: Api) -> None:
    response = await api.client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})

    generated = response.headers["x-request-id"]
    assert uuid.UUID(generated).hex == generated


async def test_pool_exhaustion_returns_problem_503(
    make_settings, secret_hash, database_url
) -> None:  # type: ignore[no-untyped-def]
    from tests.app.conftest import make_partner

    settings = make_settings(
        database_pool_size=1, database_max_overflow=0, database_pool_timeout_seconds=0.2
    )
    async with running_api(settings) as api:
        partner = await make_partner(api, secret_hash, database_url)
        async with api.resources.engine.connect():  # the only pooled connection, held
            response = await api.client.get(f"/v1/orders/{uuid.uuid4()}", headers=partner.auth())

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert response.json()["type"].endswith("/database-busy")


async def test_database_down_returns_problem_503(make_settings, secret_hash, database_url) -> None:  # type: ignore[no-untyped-def]
    from tests.app.conftest import free_port, make_partner

    async with running_api(make_settings()) as healthy:
        partner = await make_partner(healthy, secret_hash, database_url)
    settings = make_settings(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere",
        database_connect_timeout_seconds=0.5,
    )
    async with running_api(settings) as api:
        # Trust the healthy app's signing key: the token is valid, the database is not there.
        api.resources.verifier._keys.update(healthy.resources.verifier._keys)
        response = await api.client.get("/v1/orders", headers=partner.auth())

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/database-unavailable")
    assert "postgres" not in response.text
