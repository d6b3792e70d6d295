"""Benchmark data: a fresh `kakehashi_bench` database, migrated, with one partner client and
N orders of three lines each (the same shape as the shared floors' seed)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from app.core.security import hash_client_secret

REPO = Path(__file__).resolve().parents[1]
PARTNER = "bench-partner"
SECRET = "bench-secret"  # noqa: S105 - a throwaway benchmark database


async def recreate(base_url: str) -> str:
    base = make_url(base_url)
    admin = await asyncpg.connect(base.set(drivername="postgresql").render_as_string(False))
    await admin.execute("DROP DATABASE IF EXISTS kakehashi_bench WITH (FORCE)")
    await admin.execute("CREATE DATABASE kakehashi_bench")
    await admin.close()
    return base.set(database="kakehashi_bench").render_as_string(False)


def migrate(url: str) -> None:
    subprocess.run(  # noqa: S603
        [str(Path(sys.executable).parent / "alembic"), "upgrade", "head"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )


async def seed(url: str, orders: int) -> None:
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    await conn.execute(
        "insert into partner_clients values ($1, 'Benchmark partner', $2,"
        " 'orders:read orders:write', true, now())",
        PARTNER,
        hash_client_secret(SECRET),
    )
    await conn.execute(
        """
        insert into orders (id, partner_id, status, currency, total, version, created_at,
                            updated_at)
        select md5('bench' || i)::uuid, $1, 'confirmed', 'JPY', 3 * 1200, 1,
               now() - i * interval '1 second', now() - i * interval '1 second'
        from generate_series(1, $2::int) i
        """,
        PARTNER,
        orders,
    )
    await conn.execute(
        """
        insert into order_lines (order_id, line_no, sku, quantity, unit_price)
        select md5('bench' || i)::uuid, j, 'SKU-' || j, 1, 1200
        from generate_series(1, $1::int) i, generate_series(1, 3) j
        """,
        orders,
    )
    await conn.execute("analyze")
    await conn.close()


if __name__ == "__main__":
    database_url = asyncio.run(recreate(sys.argv[1]))
    migrate(database_url)
    asyncio.run(seed(database_url, int(sys.argv[2])))
    print(database_url)
