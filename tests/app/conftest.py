"""Fixtures for the service's tests: a real PostgreSQL database and a real Redis.

The database `kakehashi_app_test_<pid>` is (re)created from the `test` database that
scripts/services.sh guarantees and migrated once per session with the real `alembic`
command. Each test works as its own partner client (a fresh client id), so tests never see
each other's orders and pass in any order. Redis keys carry a per-session prefix and are
removed at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as redis
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.carrier.mock import DEFAULT_API_KEY, MockState, create_mock_carrier
from app.core.config import Settings
from app.core.security import hash_client_secret
from app.main import create_app
from app.resources import Resources

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Suffixed per run: two test runs on one PostgreSQL (two worktrees, CI retries) must not
# drop each other's database.
TEST_DATABASE = f"kakehashi_app_test_{os.getpid()}"
CLIENT_SECRET = "s3cret-for-tests-only"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Read once: some tests point DATABASE_URL elsewhere for the code under test.
BASE_DATABASE_URL = os.environ.get(
    "DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _base_url() -> str:
    return BASE_DATABASE_URL


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


async def recreate_database(name: str) -> str:
    """Drop and create `name` next to the `test` database; returns its SQLAlchemy URL."""
    base = _base_url()
    conn = await asyncpg.connect(asyncpg_dsn(base))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(base).set(database=name).render_as_string(False)


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(_base_url()))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def run_alembic(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "test"}
    return subprocess.run(
        [str(VENV_BIN / "alembic"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    url = await recreate_database(TEST_DATABASE)
    result = run_alembic(url, "upgrade", "head")
    assert result.returncode == 0, result.stderr
    yield url
    await drop_database(TEST_DATABASE)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def key_prefix() -> str:
    return f"kakehashi-test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(scope="session")
async def redis_client(redis_url: str, key_prefix: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{key_prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture(scope="session")
def make_settings(database_url: str, redis_url: str, key_prefix: str) -> Any:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "app_env": "test",
            "database_url": database_url,
            "redis_url": redis_url,
            "cache_key_prefix": key_prefix,
            "database_pool_size": 20,
            "database_max_overflow": 10,
            "carrier_connect_timeout_seconds": 0.5,
            "carrier_read_timeout_seconds": 0.3,
            "carrier_total_timeout_seconds": 1.5,
            "carrier_max_retries": 2,
            "carrier_backoff_base_seconds": 0.01,
            "carrier_backoff_max_seconds": 0.05,
            "carrier_breaker_failure_threshold": 3,
            "carrier_breaker_reset_seconds": 0.5,
            "redis_retry_interval_seconds": 0.2,
        }
        values.update(overrides)
        return Settings(**values)

    return factory


@dataclass
class Api:
    """A running app (lifespan entered) and an httpx client talking to it in-process."""

    app: FastAPI
    client: httpx.AsyncClient
    carrier: MockState

    @property
    def resources(self) -> Resources:
        resources: Resources = self.app.state.resources
        return resources


@asynccontextmanager
async def running_api(settings: Settings, **kwargs: Any) -> AsyncIterator[Api]:
    carrier_app = create_mock_carrier(api_key=DEFAULT_API_KEY)
    kwargs.setdefault("carrier_transport", httpx.ASGITransport(app=carrier_app))
    app = create_app(settings, configure_logs=False, **kwargs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(app=app, client=client, carrier=carrier_app.state.mock)


@pytest.fixture(scope="session")
async def api(make_settings: Any, redis_client: redis.Redis) -> AsyncIterator[Api]:
    """The shared app; tests that change carrier modes or break things use `fresh_api`."""
    async with running_api(make_settings()) as running:
        yield running


@pytest.fixture
async def fresh_api(make_settings: Any, redis_client: redis.Redis) -> AsyncIterator[Api]:
    async with running_api(make_settings()) as running:
        yield running


@pytest.fixture(scope="session")
def secret_hash() -> str:
    return hash_client_secret(CLIENT_SECRET)


@dataclass
class Partner:
    client_id: str
    secret: str
    token: str
    """orders:read orders:write"""
    read_token: str
    write_token: str

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}


async def make_partner(api: Api, secret_hash: str, database_url: str) -> Partner:
    client_id = f"partner-{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute(
            "insert into partner_clients (client_id, name, secret_hash, scopes, is_active,"
            " created_at) values ($1, $2, $3, 'orders:read orders:write', true, now())",
            client_id,
            f"Test partner {client_id}",
            secret_hash,
        )
    finally:
        await conn.close()
    issuer = api.resources.issuer
    both = await issuer.issue(subject=client_id, scopes=["orders:read", "orders:write"])
    read = await issuer.issue(subject=client_id, scopes=["orders:read"])
    write = await issuer.issue(subject=client_id, scopes=["orders:write"])
    return Partner(
        client_id=client_id,
        secret=CLIENT_SECRET,
        token=both.access_token,
        read_token=read.access_token,
        write_token=write.access_token,
    )


@pytest.fixture
async def partner(api: Api, secret_hash: str, database_url: str) -> Partner:
    return await make_partner(api, secret_hash, database_url)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection for asserting on rows (independent of the app's engine)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    yield conn
    await conn.close()


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_reference": "PO-1",
        "currency": "JPY",
        "lines": [
            {"sku": "SKU-1", "quantity": 2, "unit_price": "1200"},
            {"sku": "SKU-2", "quantity": 1, "unit_price": "800"},
        ],
        "total": "3200",
    }
    body.update(overrides)
    return body


async def create_order(api: Api, partner: Partner, **overrides: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/v1/orders",
        json=order_body(**overrides),
        headers={**partner.auth(), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


async def set_status(api: Api, partner: Partner, order_id: str, *statuses: str) -> int:
    """Walk an order through statuses with the API; returns the final version."""
    version = 1
    for status in statuses:
        response = await api.client.patch(
            f"/v1/orders/{order_id}",
            json={"status": status},
            headers={**partner.auth(), "If-Match": f'"v{version}"'},
        )
        assert response.status_code == 200, response.text
        version = response.json()["version"]
    return version


@pytest.fixture
def private_redis() -> Iterator[Any]:
    """Start/stop a private redis-server (the shared one is never disturbed)."""
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []

    class Controller:
        url = f"redis://127.0.0.1:{port}/0"

        def start(self) -> None:
            proc = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    "/tmp",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            procs.append(proc)
            for _ in range(100):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                        return
                except OSError:
                    import time

                    time.sleep(0.05)
            raise RuntimeError("private redis did not start")

        def stop(self) -> None:
            proc = procs.pop()
            proc.kill()
            proc.wait(timeout=10)

    controller = Controller()
    controller.start()
    yield controller
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)
