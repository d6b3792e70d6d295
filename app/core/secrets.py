"""Secrets that ECS injects at start and that can be re-read from Secrets Manager.

ECS resolves `secrets` only when a task starts; after a rotation the running tasks still hold
the old value. A `RefreshableSecret` starts from the injected value and, when it was given
the secret's ARN, re-reads Secrets Manager once its value is older than the TTL (and at once
when a caller saw the value rejected), so rotated credentials are picked up without a
redeploy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread

logger = logging.getLogger("app.secrets")

SecretsClientFactory = Callable[[], Any]


def boto3_secrets_client_factory(
    *, region: str | None, endpoint_url: str | None
) -> SecretsClientFactory:
    def factory() -> Any:
        import boto3  # imported lazily: local runs never need it

        return boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)

    return factory


class SecretUnavailableError(RuntimeError):
    """No value was injected and Secrets Manager could not provide one."""


class RefreshableSecret:
    """One secret value, refreshed from Secrets Manager on a TTL when an ARN is known.

    `json_key` selects a key of a JSON secret (the RDS-managed secret is
    `{"username": ..., "password": ...}`); without it the whole string is the value.
    A failed refresh keeps serving the last good value (and is retried on the next TTL
    expiry) rather than failing requests.
    """

    def __init__(
        self,
        *,
        name: str,
        initial: str | None,
        arn: str | None = None,
        json_key: str | None = None,
        ttl_seconds: float = 300.0,
        client_factory: SecretsClientFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.arn = arn
        self._json_key = json_key
        self._ttl = ttl_seconds
        self._client_factory = client_factory
        self._client: Any = None
        self._clock = clock
        self._value = initial
        # An injected value counts as fresh: no Secrets Manager call at start-up.
        self._fetched_at = clock() if initial is not None else float("-inf")
        self._lock = asyncio.Lock()

    @property
    def refreshable(self) -> bool:
        return self.arn is not None and self._client_factory is not None

    def peek(self) -> str | None:
        """The current value without any I/O."""
        return self._value

    async def get(self) -> str:
        if self.refreshable and self._clock() - self._fetched_at >= self._ttl:
            await self._refresh(force=False)
        if self._value is None:
            raise SecretUnavailableError(f"secret {self.name} has no value")
        return self._value

    async def refresh(self) -> str:
        """Re-read now (the current value was just rejected); returns the newest value."""
        if self.refreshable:
            await self._refresh(force=True)
        if self._value is None:
            raise SecretUnavailableError(f"secret {self.name} has no value")
        return self._value

    async def _refresh(self, *, force: bool) -> None:
        started = self._clock()
        async with self._lock:
            # Another caller refreshed while we waited for the lock.
            if self._fetched_at >= started or (
                not force and self._clock() - self._fetched_at < self._ttl
            ):
                return
            try:
                value = await anyio.to_thread.run_sync(self._fetch)
            except Exception as exc:
                # Keep the last good value; try again on the next expiry.
                self._fetched_at = self._clock()
                logger.warning(
                    "secret refresh failed",
                    extra={"secret": self.name, "error": type(exc).__name__},
                )
                return
            changed = value != self._value
            self._value = value
            self._fetched_at = self._clock()
            logger.info("secret refreshed", extra={"secret": self.name, "changed": changed})

    def _fetch(self) -> str:
        assert self._client_factory is not None
        assert self.arn is not None
        if self._client is None:
            self._client = self._client_factory()
        response = self._client.get_secret_value(SecretId=self.arn)
        raw = response["SecretString"]
        if self._json_key is None:
            return str(raw)
        return str(json.loads(raw)[self._json_key])
