"""Redis stopped mid-test: requests still succeed from the database, and Redis recovers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as redis

from tests.app.conftest import create_order, make_partner, running_api


async def test_requests_succeed_when_redis_stops_mid_test(
    make_settings: Any, private_redis: Any, secret_hash: str, database_url: str
) -> None:
    settings = make_settings(redis_url=private_redis.url, redis_retry_interval_seconds=0.5)
    async with running_api(settings) as api:
        partner = await make_partner(api, secret_hash, database_url)
        order = await create_order(api, partner)
        url = f"/v1/orders/{order['id']}"
        key = api.resources.order_key(order["id"])
        assert (await api.client.get(url, headers=partner.auth())).status_code == 200
        probe = redis.Redis.from_url(private_redis.url)
        assert await probe.exists(key) == 1
        await probe.aclose()

        private_redis.stop()
        started = time.monotonic()
        while_down = [await api.client.get(url, headers=partner.auth()) for _ in range(5)]
        created_while_down = await create_order(api, partner)
        updated = await api.client.patch(
            url, json={"status": "confirmed"}, headers={**partner.auth(), "If-Match": '"v1"'}
        )
        after_update = await api.client.get(url, headers=partner.auth())
        ready = await api.client.get("/readyz")
        elapsed = time.monotonic() - started

        assert [response.status_code for response in while_down] == [200] * 5
        assert while_down[0].json() == order
        assert created_while_down["status"] == "pending"
        assert updated.status_code == 200
        assert after_update.json()["status"] == "confirmed"  # from the database, not stale
        assert ready.status_code == 200
        assert ready.json()["checks"]["cache"]["status"] == "down"
        # Short socket timeouts plus the back-off window: no request paid much for Redis.
        assert elapsed < 3.0

        private_redis.start()
        await asyncio.sleep(settings.redis_retry_interval_seconds)
        recovered = await api.client.get(url, headers=partner.auth())
        probe = redis.Redis.from_url(private_redis.url)
        repopulated = await probe.get(key)
        await probe.aclose()

        assert recovered.status_code == 200
        assert recovered.json()["status"] == "confirmed"
        assert repopulated is not None
        assert repopulated.startswith(b"2\n")
        assert (await api.client.get("/readyz")).json()["checks"]["cache"]["status"] == "ok"


async def test_requests_succeed_when_redis_never_reachable(
    make_settings: Any, secret_hash: str, database_url: str
) -> None:
    from tests.app.conftest import free_port

    settings = make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with running_api(settings) as api:
        partner = await make_partner(api, secret_hash, database_url)
        order = await create_order(api, partner)

        response = await api.client.get(f"/v1/orders/{order['id']}", headers=partner.auth())

    assert response.status_code == 200
    assert response.json() == order


async def test_close_logs_instead_of_raising_when_redis_close_times_out(
    caplog: Any,
) -> None:
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from app.core.cache import RedisCache
    from app.core.secrets import RefreshableSecret

    cache = RedisCache(
        url="redis://127.0.0.1:6379/0",
        auth_token=RefreshableSecret(name="redis-auth", initial=None),
        socket_timeout_seconds=0.25,
        retry_interval_seconds=1.0,
    )

    async def slow_close() -> None:
        raise RedisTimeoutError("Timed out closing connection after 0.25")

    cache._client.aclose = slow_close  # type: ignore[method-assign]
    with caplog.at_level("WARNING", logger="app.cache"):
        await cache.close()  # must not raise: shutdown has to complete
    assert [r.getMessage() for r in caplog.records] == ["redis close failed: TimeoutError"]
