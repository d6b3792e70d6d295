"""Operator commands: `python -m app.cli create-client ...` and `seed-demo` (development).

Secrets are generated here and printed once; only their Argon2 hash is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker, database_password
from app.crud import clients as crud
from app.resources import boto3_client_factory

DEMO_CLIENT_ID = "demo-partner"


async def upsert_client(settings: Settings, *, client_id: str, name: str, scopes: list[str]) -> str:
    aws = boto3_client_factory(settings)
    password = database_password(settings, client_factory=lambda: aws("secretsmanager"))
    engine = create_engine(settings, password=password)
    secret = secrets.token_urlsafe(32)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await crud.upsert_client(
                session, client_id=client_id, name=name, secret=secret, scopes=scopes
            )
    finally:
        await engine.dispose()
    return secret


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-client", help="create a partner client (or rotate it)")
    create.add_argument("--client-id", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", default="orders:read orders:write")
    seed = commands.add_parser("seed-demo", help="development: the demo partner client")
    seed.add_argument("--base-url", default="http://127.0.0.1:8000")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command == "create-client":
        secret = asyncio.run(
            upsert_client(
                settings, client_id=args.client_id, name=args.name, scopes=args.scopes.split()
            )
        )
        print(f"client_id={args.client_id}\nclient_secret={secret}  (shown once)")
        return 0
    if not settings.is_local:
        print("seed-demo is for development only", file=sys.stderr)
        return 2
    secret = asyncio.run(
        upsert_client(
            settings,
            client_id=DEMO_CLIENT_ID,
            name="Demo partner",
            scopes=["orders:read", "orders:write"],
        )
    )
    print(
        "\nDemo partner client ready. Get a token with:\n\n"
        f"  curl -s -X POST {args.base_url}/oauth/token \\\n"
        f"    -d grant_type=client_credentials -d client_id={DEMO_CLIENT_ID} \\\n"
        f"    -d client_secret={secret}\n\n"
        "then call the API with  -H 'Authorization: Bearer <access_token>'"
        f"  (docs: {args.base_url}/docs)\n",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
