"""Builds the FastAPI application: `uvicorn --factory app.main:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.api.fast_read import OrderReadFastPath
from app.api.routes import health, oauth, orders
from app.core.config import Settings, get_settings
from app.core.errors import PROBLEM_MEDIA_TYPE, install_problem_handlers
from app.core.logging import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.resources import AwsClientFactory, open_resources

DESCRIPTION = """
Links the core business system's orders with partner systems and external services.

Partners authenticate with the OAuth2 client-credentials grant (`POST /oauth/token`) and send
the access token as `Authorization: Bearer <token>`. Every error is an RFC 9457 problem
document (`application/problem+json`) carrying the request id (`X-Request-ID`).
"""


def create_app(
    settings: Settings | None = None,
    *,
    carrier_transport: httpx.AsyncBaseTransport | None = None,
    aws_client_factory: AwsClientFactory | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    if configure_logs:
        configure_logging(level=settings.log_level, service=settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(
            settings, carrier_transport=carrier_transport, aws_client_factory=aws_client_factory
        ) as resources:
            app.state.resources = resources
            yield

    app = FastAPI(
        title="kakehashi integration API",
        version=settings.app_version,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "auth", "description": "Access tokens for partner systems."},
            {"name": "orders", "description": "Orders and their shipments."},
            {"name": "operations", "description": "Health, readiness and version."},
        ],
    )
    install_problem_handlers(app)
    # Inside the request middleware (request id, log line, 500s): the direct path for a
    # successful order read; everything else reaches the routes below.
    app.add_middleware(OrderReadFastPath, fastapi_app=app)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    app.include_router(health.router)
    app.include_router(oauth.router)
    app.include_router(orders.router)
    _problem_only_error_content(app)
    return app


def _problem_only_error_content(app: FastAPI) -> None:
    """Error responses are documented as `application/problem+json` only.

    FastAPI also lists the route's default media type for any `responses` entry with a
    model; errors are never sent as plain `application/json`.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    if PROBLEM_MEDIA_TYPE in content:
                        content.pop("application/json", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
