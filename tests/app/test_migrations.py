"""Alembic: the migrations match the models and run up and down on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.config import Config

from tests.app.conftest import (
    REPO,
    TEST_DATABASE,
    VENV_BIN,
    asyncpg_dsn,
    drop_database,
    recreate_database,
    run_alembic,
)

EXPECTED_TABLES = {
    "alembic_version",
    "partner_clients",
    "orders",
    "order_lines",
    "idempotency_records",
}


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch("select tablename from pg_tables where schemaname = 'public'")
    finally:
        await conn.close()
    return {row["tablename"] for row in rows}


def test_models_and_migrations_agree(database_url: str) -> None:
    result = run_alembic(database_url, "check")

    assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr


async def test_migrations_upgrade_downgrade_and_upgrade_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = await recreate_database(f"{TEST_DATABASE}_migrations")
    monkeypatch.setenv("DATABASE_URL", url)
    config = Config(str(REPO / "alembic.ini"))
    try:
        # Alembic's env.py runs its own event loop: drive it from a worker thread.
        await asyncio.to_thread(command.upgrade, config, "head")
        after_up = await tables(url)
        await asyncio.to_thread(command.downgrade, config, "base")
        after_down = await tables(url)
        await asyncio.to_thread(command.upgrade, config, "head")
        after_again = await tables(url)
    finally:
        await drop_database(f"{TEST_DATABASE}_migrations")

    assert after_up == after_again == EXPECTED_TABLES
    assert after_down == {"alembic_version"}


def test_migrations_run_on_the_embedded_sqlite_database(tmp_path: Path) -> None:
    env = {
        key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update({"SQLITE_PATH": str(tmp_path / "local.db"), "APP_ENV": "development"})

    # From another directory, as the migration task might: alembic.ini is found by path.
    result = subprocess.run(
        [str(VENV_BIN / "alembic"), "-c", str(REPO / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "local.db").stat().st_size > 0
