"""Database passwords rotated in Secrets Manager are picked up without a redeploy.

The shared test PostgreSQL trusts local connections (no password is ever checked), so these
tests start a private PostgreSQL cluster with scram-sha-256 authentication on a free port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import pytest
from moto import mock_aws
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.config import Settings
from app.core.db import create_engine, database_password
from tests.app.conftest import free_port

REGION = "ap-northeast-1"


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:  # initdb refuses to run as root
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[int]:
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.skip("initdb/pg_ctl not installed")
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="kakehashi-pg-"))
    data = root / "data"
    pwfile = root / "pw"
    pwfile.write_text("superuser-password\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            "initdb",
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
        ),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres(
            "pg_ctl",
            "-D",
            str(data),
            "-w",
            "-l",
            str(root / "log"),
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
            "start",
        ),
        check=True,
        capture_output=True,
    )
    yield port
    subprocess.run(
        _as_postgres("pg_ctl", "-D", str(data), "-m", "immediate", "stop"),
        check=False,
        capture_output=True,
    )
    shutil.rmtree(root, ignore_errors=True)


async def _set_password(port: int, password: str) -> None:
    conn = await asyncpg.connect(
        host="127.0.0.1", port=port, user="postgres", password="superuser-password"
    )
    try:
        exists = await conn.fetchval("select 1 from pg_roles where rolname = 'app'")
        verb = "alter" if exists else "create"
        await conn.execute(f"{verb} role app login password '{password}'")
    finally:
        await conn.close()


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def settings_for(port: int, *, injected: str, arn: str | None) -> Settings:
    return Settings(
        app_env="test",
        database_url=None,
        database_host="127.0.0.1",
        database_port=port,
        database_name="postgres",
        database_user="app",
        database_password=injected,
        database_secret_arn=arn,
        database_ssl="disable",
        secret_refresh_ttl_seconds=3600,
    )


async def test_connect_refreshes_password_once_when_authentication_fails(
    private_postgres: int, secretsmanager: Any
) -> None:
    await _set_password(private_postgres, "rotated-password")
    arn = secretsmanager.create_secret(
        Name="rds-app",
        SecretString=json.dumps({"username": "app", "password": "rotated-password"}),
    )["ARN"]
    # ECS injected the value from before the rotation.
    settings = settings_for(private_postgres, injected="password-before-rotation", arn=arn)
    password = database_password(
        settings, client_factory=lambda: boto3.client("secretsmanager", region_name=REGION)
    )
    engine = create_engine(settings, password=password)
    try:
        async with engine.connect() as conn:
            user = (await conn.execute(text("select current_user"))).scalar_one()
    finally:
        await engine.dispose()

    assert user == "app"
    assert password.peek() == "rotated-password"


async def test_connect_fails_when_password_wrong_and_no_secret_arn(
    private_postgres: int,
) -> None:
    await _set_password(private_postgres, "the-real-password")
    settings = settings_for(private_postgres, injected="a-wrong-password", arn=None)
    engine = create_engine(settings, password=database_password(settings))
    try:
        with pytest.raises(DBAPIError, match="password authentication failed"):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()


@pytest.mark.parametrize("pooler_mode", [False, True])
async def test_pooler_mode_disables_prepared_statement_caches(
    make_settings: Any, pooler_mode: bool
) -> None:
    settings = make_settings(database_pooler_mode=pooler_mode)
    engine = create_engine(settings, password=database_password(settings), autocommit=True)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
            adapter = (await conn.get_raw_connection()).dbapi_connection
            asyncpg_connection = adapter.driver_connection
            sqlalchemy_cache = adapter._prepared_statement_cache
            asyncpg_cache = asyncpg_connection._stmt_cache.get_max_size()
    finally:
        await engine.dispose()

    # Both layers cache prepared statements; behind a transaction pooler neither may.
    assert asyncpg_cache == (0 if pooler_mode else 100)
    assert (sqlalchemy_cache is None) is pooler_mode
