"""Liveness, readiness, version and the public signing keys (no authentication)."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import APIRouter
from sqlalchemy import text

from app.api.deps import ResourcesDep
from app.core.errors import ProblemError, problem_responses
from app.resources import Resources
from app.schemas import CheckOut, HealthOut, Jwks, ReadinessOut, VersionOut

router = APIRouter(tags=["operations"])
logger = logging.getLogger("app.readiness")

READINESS_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", response_model=HealthOut, summary="Liveness")
async def healthz() -> HealthOut:
    """The process is serving requests; no dependency is consulted."""
    return HealthOut()


async def _database_writable(resources: Resources) -> None:
    async with resources.engine.connect() as conn:
        if resources.settings.uses_sqlite:
            read_only = (await conn.execute(text("PRAGMA query_only"))).scalar_one()
            writable = not read_only
        else:
            # After an Aurora failover the old writer comes back as a read-only replica.
            writable = (
                await conn.execute(text("select current_setting('transaction_read_only')"))
            ).scalar_one() == "off"
    if not writable:
        raise RuntimeError("database is read-only")


@router.get(
    "/readyz",
    response_model=ReadinessOut,
    summary="Readiness",
    responses=problem_responses(503),
)
async def readyz(resources: ResourcesDep) -> ReadinessOut:
    """Ready when the database is reachable and writable; Redis is reported, not required
    (the service fails open without it)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await _database_writable(resources)
        database = CheckOut(
            status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2)
        )
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log only
        logger.warning("database not ready", extra={"error": type(exc).__name__})
        database = CheckOut(status="down" if not isinstance(exc, RuntimeError) else "read-only")
    cache = CheckOut(status=await resources.cache.state())
    checks = {"database": database, "cache": cache}
    if database.status != "ok":
        raise ProblemError(
            503,
            slug="not-ready",
            detail="the database is not reachable or not writable",
            extensions={"checks": {name: check.model_dump() for name, check in checks.items()}},
        )
    return ReadinessOut(checks=checks)


@router.get("/version", response_model=VersionOut, summary="Version")
async def version(resources: ResourcesDep) -> VersionOut:
    settings = resources.settings
    return VersionOut(
        version=settings.app_version,
        git_revision=settings.git_revision,
        environment=settings.app_env,
    )


@router.get("/.well-known/jwks.json", response_model=Jwks, summary="Token signing keys")
async def jwks(resources: ResourcesDep) -> Jwks:
    """The public keys that verify access tokens, by `kid`."""
    return Jwks(**resources.verifier.jwks())
