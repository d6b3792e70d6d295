"""Partner clients (OAuth2 client credentials)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import SCOPES, hash_client_secret
from app.models import PartnerClient


async def get_active_client(session: AsyncSession, *, client_id: str) -> PartnerClient | None:
    result = await session.execute(
        select(PartnerClient).where(
            PartnerClient.client_id == client_id, PartnerClient.is_active.is_(True)
        )
    )
    return result.scalar_one_or_none()


async def upsert_client(
    session: AsyncSession,
    *,
    client_id: str,
    name: str,
    secret: str | None = None,
    secret_hash: str | None = None,
    scopes: list[str],
) -> PartnerClient:
    """Create the client or replace its secret and scopes (the caller commits)."""
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; allowed: {sorted(SCOPES)}")
    if (secret is None) == (secret_hash is None):
        raise ValueError("give exactly one of secret and secret_hash")
    hashed = secret_hash if secret_hash is not None else hash_client_secret(str(secret))
    client = await session.get(PartnerClient, client_id)
    if client is None:
        client = PartnerClient(client_id=client_id, created_at=datetime.now(UTC))
        session.add(client)
    client.name = name
    client.secret_hash = hashed
    client.scopes = " ".join(sorted(set(scopes)))
    client.is_active = True
    await session.flush()
    return client
