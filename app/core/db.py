"""The one async SQLAlchemy engine per process (created in the lifespan, disposed at shutdown).

For PostgreSQL the engine connects through `connect_postgres`, which takes the password from
a `RefreshableSecret` at every new connection: a password rotated in Secrets Manager is used
as soon as the TTL expires, and an authentication failure forces a refresh and one retry.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from app.core.config import Settings
from app.core.secrets import RefreshableSecret

logger = logging.getLogger("app.db")

_AUTH_ERRORS = (
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidAuthorizationSpecificationError,
)


def ssl_argument(settings: Settings) -> ssl.SSLContext | bool:
    mode = settings.effective_database_ssl
    if mode == "disable":
        return False
    if mode == "verify-full":
        return ssl.create_default_context(cafile=settings.database_ssl_root_cert)
    # "require": encrypted, server certificate not verified (libpq's sslmode=require).
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def postgres_connector(
    settings: Settings, password: RefreshableSecret
) -> Callable[[], Awaitable[asyncpg.Connection]]:
    url = make_url(settings.database_dsn)
    params: dict[str, Any] = {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username,
        "database": url.database,
        "ssl": ssl_argument(settings),
        "timeout": settings.database_connect_timeout_seconds,
        "server_settings": {"application_name": settings.service_name},
    }
    if settings.database_pooler_mode:
        # A transaction-mode pooler hands each transaction to any server connection, where a
        # statement prepared on another one does not exist.
        params["statement_cache_size"] = 0

    async def connect() -> asyncpg.Connection:
        secret = await password.get() if password.peek() is not None or password.arn else None
        try:
            return await asyncpg.connect(password=secret, **params)
        except _AUTH_ERRORS:
            if not password.refreshable:
                raise
            logger.warning("database authentication failed; refreshing the password once")
            return await asyncpg.connect(password=await password.refresh(), **params)

    return connect


def create_engine(
    settings: Settings, *, password: RefreshableSecret, autocommit: bool = False
) -> AsyncEngine:
    """The process's engine. `autocommit=True` (the app's read engine) runs single-statement
    reads and the pool's pre-ping without BEGIN/ROLLBACK round trips; anything that needs a
    transaction uses `transactional(engine)`."""
    if settings.uses_sqlite:
        engine = create_async_engine(settings.database_dsn)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine

    connect = postgres_connector(settings, password)
    statement_cache = 0 if settings.database_pooler_mode else 100
    engine_ref: list[AsyncEngine] = []

    def creator() -> Any:
        # SQLAlchemy's adapter wraps the asyncpg connection our coroutine returns; its own
        # prepared-statement cache must be off behind a pooler as well.
        return engine_ref[0].sync_engine.dialect.dbapi.connect(  # type: ignore[union-attr]
            async_creator_fn=connect, prepared_statement_cache_size=statement_cache
        )

    url = make_url(settings.database_dsn).set(password=None)
    engine = create_async_engine(
        url,
        creator=creator,
        isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_recycle=settings.database_pool_recycle_seconds,
        pool_timeout=settings.database_pool_timeout_seconds,
        pool_pre_ping=True,
    )
    engine_ref.append(engine)
    return engine


def database_password(settings: Settings, **kwargs: Any) -> RefreshableSecret:
    """The database password: DATABASE_PASSWORD or the URL's, refreshed by ARN when given."""
    initial = settings.database_password.get_secret_value() if settings.database_password else None
    if initial is None and not settings.uses_sqlite:
        initial = make_url(settings.database_dsn).password
        initial = str(initial) if initial is not None else None
    return RefreshableSecret(
        name="database-password",
        initial=initial,
        arn=settings.database_secret_arn,
        json_key="password",
        ttl_seconds=settings.secret_refresh_ttl_seconds,
        **kwargs,
    )


def transactional(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, with real transactions (READ COMMITTED) on every connection."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="READ COMMITTED")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(transactional(engine), expire_on_commit=False, autoflush=False)
