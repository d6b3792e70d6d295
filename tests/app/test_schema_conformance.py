"""Property-based API test: schemathesis over the OpenAPI schema of a real running server.

The server is started with the exact command of app/Dockerfile (uvicorn, uvloop, httptools),
only the port changed, on the test database and the shared Redis. Checks: no 5xx, and every
response (status code, content type, headers, body) conforms to the schema.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.config import Settings
from app.main import create_app
from tests.app.conftest import CLIENT_SECRET, VENV_BIN, asyncpg_dsn, free_port
from tests.app.test_dockerfile import container_command

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live_server(database_url: str, redis_url: str, key_prefix: str) -> Iterator[str]:
    port = free_port()
    command = container_command()
    command[command.index("--port") + 1] = str(port)
    command[command.index("--host") + 1] = "127.0.0.1"
    command[0] = str(VENV_BIN / command[0])
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": key_prefix,
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=40)


@pytest.fixture(scope="module")
async def bearer(live_server: str, database_url: str, secret_hash: str) -> str:
    client_id = f"schemathesis-{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute(
            "insert into partner_clients values ($1, 'schemathesis', $2,"
            " 'orders:read orders:write', true, now())",
            client_id,
            secret_hash,
        )
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": CLIENT_SECRET,
            },
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# The schema the server will publish, built without starting anything (no lifespan).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(app_env="test"), configure_logs=False).openapi()
)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_schema(case: Any, live_server: str, bearer: str) -> None:
    response = case.call(
        base_url=live_server, headers={"Authorization": f"Bearer {bearer}"}, timeout=10
    )

    case.validate_response(response, checks=CHECKS)
