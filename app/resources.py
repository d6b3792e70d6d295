"""Everything the app holds for its lifetime, opened in the lifespan and closed at shutdown."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.carrier.client import CarrierClient, CircuitBreaker, RetryPolicy, build_http_client
from app.carrier.mock import DEFAULT_API_KEY, create_mock_carrier
from app.core.cache import Cache, MemoryCache, RedisCache
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker, database_password, transactional
from app.core.secrets import RefreshableSecret
from app.core.security import (
    KmsSigner,
    LocalSigner,
    Signer,
    TokenIssuer,
    TokenVerifier,
)

logger = logging.getLogger("app.resources")

AwsClientFactory = Callable[[str], Any]
"""`factory("kms")` -> a boto3 client; tests pass one bound to moto."""


def boto3_client_factory(settings: Settings) -> AwsClientFactory:
    def factory(service: str) -> Any:
        import boto3  # only deployed configurations need it

        return boto3.client(
            service,
            region_name=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url,
        )

    return factory


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    """Autocommit: for single-statement reads."""
    write_engine: AsyncEngine
    """The same pool with transactions: for anything that writes."""
    sessionmaker: async_sessionmaker[AsyncSession]
    cache: Cache
    carrier: CarrierClient
    issuer: TokenIssuer
    verifier: TokenVerifier
    secrets: dict[str, RefreshableSecret]

    def order_key(self, order_id: uuid.UUID | str) -> str:
        return f"{self.settings.cache_key_prefix}order:{order_id}"

    def shipment_key(self, order_id: uuid.UUID | str) -> str:
        return f"{self.settings.cache_key_prefix}shipment:{order_id}"


def _secret(
    *,
    name: str,
    value: Any,
    arn: str | None,
    settings: Settings,
    aws: AwsClientFactory,
    default: str | None = None,
) -> RefreshableSecret:
    initial = value.get_secret_value() if value is not None else default
    return RefreshableSecret(
        name=name,
        initial=initial,
        arn=arn,
        ttl_seconds=settings.secret_refresh_ttl_seconds,
        client_factory=lambda: aws("secretsmanager"),
    )


async def _signer(settings: Settings, aws: AwsClientFactory) -> Signer:
    if settings.jwt_signer == "kms":
        assert settings.jwt_kms_key_id is not None  # enforced by Settings
        signer = KmsSigner(kms_client=aws("kms"), key_id=settings.jwt_kms_key_id)
        await signer.load()
        return signer
    if settings.jwt_local_private_key_pem is not None:
        return LocalSigner.from_pem(settings.jwt_local_private_key_pem.get_secret_value())
    logger.warning("signing tokens with a key generated at start-up (development only)")
    return LocalSigner.generate()


@asynccontextmanager
async def open_resources(
    settings: Settings,
    *,
    carrier_transport: httpx.AsyncBaseTransport | None = None,
    aws_client_factory: AwsClientFactory | None = None,
) -> AsyncIterator[Resources]:
    aws = aws_client_factory or boto3_client_factory(settings)
    async with AsyncExitStack() as stack:
        db_password = database_password(settings, client_factory=lambda: aws("secretsmanager"))
        engine = create_engine(settings, password=db_password, autocommit=True)
        stack.push_async_callback(engine.dispose)

        cache: Cache
        redis_token = _secret(
            name="redis-auth-token",
            value=settings.redis_auth_token,
            arn=settings.redis_auth_secret_arn,
            settings=settings,
            aws=aws,
        )
        redis_url = settings.redis_dsn
        if redis_url is None:
            cache = MemoryCache()
        else:
            if redis_token.refreshable and redis_token.peek() is None:
                await redis_token.get()
            cache = RedisCache(
                url=redis_url,
                auth_token=redis_token,
                socket_timeout_seconds=settings.redis_socket_timeout_seconds,
                retry_interval_seconds=settings.redis_retry_interval_seconds,
            )
        stack.push_async_callback(cache.close)

        carrier_key = _secret(
            name="carrier-api-key",
            value=settings.carrier_api_key,
            arn=settings.carrier_secret_arn,
            settings=settings,
            aws=aws,
            default=DEFAULT_API_KEY if settings.carrier_base_url is None else None,
        )
        if settings.carrier_base_url is None and carrier_transport is None:
            carrier_transport = httpx.ASGITransport(app=create_mock_carrier())
        http = build_http_client(
            base_url=settings.carrier_base_url or "http://mock-carrier.invalid",
            connect_timeout=settings.carrier_connect_timeout_seconds,
            read_timeout=settings.carrier_read_timeout_seconds,
            max_connections=settings.carrier_max_connections,
            transport=carrier_transport,
        )
        stack.push_async_callback(http.aclose)
        carrier = CarrierClient(
            http=http,
            api_key=carrier_key,
            retry=RetryPolicy(
                max_retries=settings.carrier_max_retries,
                backoff_base_seconds=settings.carrier_backoff_base_seconds,
                backoff_max_seconds=settings.carrier_backoff_max_seconds,
            ),
            breaker=CircuitBreaker(
                failure_threshold=settings.carrier_breaker_failure_threshold,
                reset_seconds=settings.carrier_breaker_reset_seconds,
            ),
            total_timeout_seconds=settings.carrier_total_timeout_seconds,
        )

        signer = await _signer(settings, aws)
        issuer = TokenIssuer(
            signer=signer,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=settings.jwt_access_token_ttl_seconds,
        )
        verifier = TokenVerifier(
            keys={signer.kid: signer.public_key},
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_seconds=settings.jwt_leeway_seconds,
        )
        yield Resources(
            settings=settings,
            engine=engine,
            write_engine=transactional(engine),
            sessionmaker=create_sessionmaker(engine),
            cache=cache,
            carrier=carrier,
            issuer=issuer,
            verifier=verifier,
            secrets={
                "database-password": db_password,
                "redis-auth-token": redis_token,
                "carrier-api-key": carrier_key,
            },
        )
