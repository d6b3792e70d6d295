"""Alembic environment: connects with the app's own Settings and engine factory.

So the migration task needs exactly the service's environment (DATABASE_HOST, the injected
DATABASE_PASSWORD or DATABASE_SECRET_ARN, TLS) and nothing else.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from app.core.config import Settings
from app.core.db import create_engine, database_password
from app.models import Base
from app.resources import boto3_client_factory

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    settings = Settings()
    aws = boto3_client_factory(settings)
    password = database_password(settings, client_factory=lambda: aws("secretsmanager"))
    engine = create_engine(settings, password=password)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=Settings().database_dsn, target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
