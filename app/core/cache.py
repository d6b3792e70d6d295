"""The cache in front of the database: Redis when configured, in-process in development.

The cache is an optimisation, never a dependency: `RedisCache` fails open. Each call has a
short socket timeout, and after a failure Redis is skipped for `retry_interval` seconds so a
dead or slow Redis costs requests nothing; then it is tried again and recovers by itself.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Literal, Protocol

import redis.asyncio as redis
from redis.exceptions import AuthenticationError, RedisError

from app.core.secrets import RefreshableSecret

logger = logging.getLogger("app.cache")

CacheState = Literal["ok", "down", "in-process"]


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None: ...

    async def add(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        """Set only when absent (a reader must not overwrite a writer's fresher value)."""
        ...

    async def delete(self, key: str) -> None: ...

    async def state(self) -> CacheState: ...

    async def close(self) -> None: ...


class MemoryCache:
    """A bounded in-process LRU with expiry: `make run` without Redis."""

    def __init__(self, *, max_entries: int = 10_000) -> None:
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries

    async def get(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        self._data[key] = (time.monotonic() + ttl_seconds, value)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def add(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        if await self.get(key) is None:
            await self.set(key, value, ttl_seconds=ttl_seconds)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def state(self) -> CacheState:
        return "in-process"

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    def __init__(
        self,
        *,
        url: str,
        auth_token: RefreshableSecret,
        socket_timeout_seconds: float,
        retry_interval_seconds: float,
        max_connections: int = 64,
    ) -> None:
        self._url = url
        self._auth_token = auth_token
        self._timeout = socket_timeout_seconds
        self._retry_interval = retry_interval_seconds
        self._max_connections = max_connections
        self._client = self._build(auth_token.peek())
        self._down_until = 0.0

    def _build(self, password: str | None) -> redis.Redis:
        kwargs: dict[str, object] = {
            "socket_timeout": self._timeout,
            "socket_connect_timeout": self._timeout,
            "max_connections": self._max_connections,
            "health_check_interval": 30,
            "retry_on_timeout": False,
        }
        if password is not None:
            kwargs["password"] = password
        return redis.Redis.from_url(self._url, **kwargs)  # type: ignore[arg-type]

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    async def _failed(self, exc: Exception) -> None:
        if self._down_until == 0.0 or time.monotonic() >= self._down_until:
            logger.warning(
                "redis unavailable; serving from the database", extra={"error": type(exc).__name__}
            )
        self._down_until = time.monotonic() + self._retry_interval
        if isinstance(exc, AuthenticationError) and self._auth_token.refreshable:
            # The auth token was rotated: rebuild the client with the newest one.
            token = await self._auth_token.refresh()
            old, self._client = self._client, self._build(token)
            await old.aclose()

    def _recovered(self) -> None:
        if self._down_until:
            self._down_until = 0.0
            logger.info("redis available again")

    async def get(self, key: str) -> bytes | None:
        if not self._available():
            return None
        try:
            value = await self._client.get(key)
        except (RedisError, OSError) as exc:
            await self._failed(exc)
            return None
        self._recovered()
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        await self._write(key, value, ttl_seconds=ttl_seconds, only_if_absent=False)

    async def add(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        await self._write(key, value, ttl_seconds=ttl_seconds, only_if_absent=True)

    async def _write(
        self, key: str, value: bytes, *, ttl_seconds: int, only_if_absent: bool
    ) -> None:
        if not self._available():
            return
        try:
            await self._client.set(key, value, ex=ttl_seconds, nx=only_if_absent)
        except (RedisError, OSError) as exc:
            await self._failed(exc)
            return
        self._recovered()

    async def delete(self, key: str) -> None:
        # Always attempted (even inside the back-off): a stale entry outliving an update
        # is worse than one wasted timeout.
        try:
            await self._client.delete(key)
        except (RedisError, OSError) as exc:
            await self._failed(exc)

    async def state(self) -> CacheState:
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            await self._failed(exc)
            return "down"
        self._recovered()
        return "ok"

    async def close(self) -> None:
        # Shutdown must finish even when Redis is slow or gone: a close that times out
        # is logged, never raised into the lifespan (which would fail the shutdown).
        try:
            await self._client.aclose()
        except (RedisError, OSError) as exc:
            logger.warning("redis close failed: %s", type(exc).__name__)
