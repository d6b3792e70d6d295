"""RFC 9457 problem documents for every error the service returns.

Routes raise `ProblemError` (or a subclass); Starlette's own 404/405, request validation
errors and unexpected exceptions are converted by the handlers here, so a client only ever
sees `application/problem+json` with the request id, never a stack trace or SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.core.logging import request_id_var

logger = logging.getLogger("app.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://kakehashi.example/problems/"


class FieldError(BaseModel):
    """One invalid input."""

    loc: list[str | int] = Field(examples=[["body", "lines", 0, "quantity"]])
    msg: str = Field(examples=["Input should be greater than 0"])
    type: str = Field(examples=["greater_than"])


class Problem(BaseModel):
    """An RFC 9457 problem document (`application/problem+json`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "https://kakehashi.example/problems/not-found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "order 0b4c… does not exist",
                    "instance": "/v1/orders/0b4c…",
                    "request_id": "3f1d2c9e8b7a4f60a1b2c3d4e5f60718",
                }
            ]
        }
    )

    type: str = Field(default="about:blank", description="A URI identifying the problem type.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = Field(default=None, description="Echoes the X-Request-ID header.")
    errors: list[FieldError] | None = Field(
        default=None, description="For validation problems: every invalid input."
    )
    error: str | None = Field(
        default=None, description="For the token endpoint: the RFC 6749 error code."
    )


class ProblemError(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        *,
        slug: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title or str(status))
        self.status = status
        self.slug = slug
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})


def problem_response(
    *,
    status: int,
    title: str | None = None,
    slug: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    document: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail is not None:
        document["detail"] = detail
    if instance is not None:
        document["instance"] = instance
    document["request_id"] = request_id_var.get()
    if extensions:
        document.update(extensions)
    return Response(
        content=orjson.dumps(document),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _instance(request: Request) -> str:
    return request.url.path


async def _problem_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        status=exc.status,
        title=exc.title,
        slug=exc.slug,
        detail=exc.detail,
        instance=_instance(request),
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code)
    return problem_response(
        status=exc.status_code,
        slug=slug,
        detail=detail,
        instance=_instance(request),
        headers=exc.headers,
    )


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    # Only location, message and type: pydantic's `input` and `ctx` could echo secrets
    # (a client_secret) or arbitrary payloads back.
    return [
        {
            "loc": [part if isinstance(part, int) else str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in errors
    ]


async def _validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        status=422,
        slug="validation-error",
        title="Request validation failed",
        detail="one or more inputs are invalid; see errors",
        instance=_instance(request),
        extensions={"errors": _field_errors(exc.errors())},
    )


async def _database_busy_handler(request: Request, exc: Exception) -> Response:
    # Every pooled connection stayed busy for DATABASE_POOL_TIMEOUT_SECONDS: overload, which
    # a client should retry shortly (and the load balancer can see as 503, not as a bug).
    logger.warning("database pool exhausted", extra={"path": request.url.path})
    return problem_response(
        status=503,
        slug="database-busy",
        detail="the service is overloaded; retry shortly",
        instance=_instance(request),
        headers={"Retry-After": "1"},
    )


async def _database_unavailable_handler(request: Request, exc: Exception) -> Response:
    logger.error("database unavailable", extra={"error": type(exc).__name__})
    return problem_response(
        status=503,
        slug="database-unavailable",
        detail="the order database is unavailable; retry later",
        instance=_instance(request),
        headers={"Retry-After": "5"},
    )


async def _unhandled_error_handler(request: Request, exc: Exception) -> Response:
    # Reached only if the request middleware is bypassed; it normally answers 500 itself.
    return problem_response(status=500, slug="internal-error", instance=_instance(request))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _problem_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(sa_exc.TimeoutError, _database_busy_handler)
    for unavailable in (ConnectionError, sa_exc.OperationalError, sa_exc.InterfaceError):
        app.add_exception_handler(unavailable, _database_unavailable_handler)
    app.add_exception_handler(Exception, _unhandled_error_handler)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries: each status documented with the shared Problem model."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
