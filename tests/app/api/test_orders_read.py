"""GET /v1/orders/{id}: read-through Redis cache, ETag / If-None-Match, partner isolation."""

from __future__ import annotations

import uuid

import redis.asyncio as redis

from tests.app.conftest import Api, Partner, create_order, make_partner


async def test_read_order_returns_order_with_etag(api: Api, partner: Partner) -> None:
    created = await create_order(api, partner)

    response = await api.client.get(f"/v1/orders/{created['id']}", headers=partner.auth())

    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == '"v1"'
    assert response.headers["content-type"] == "application/json"


async def test_read_order_populates_redis_when_not_cached(
    api: Api, partner: Partner, redis_client: redis.Redis
) -> None:
    created = await create_order(api, partner)
    key = api.resources.order_key(created["id"])
    await redis_client.delete(key)

    response = await api.client.get(f"/v1/orders/{created['id']}", headers=partner.auth())

    assert response.status_code == 200
    cached = await redis_client.get(key)
    assert cached is not None
    assert cached.split(b"\n", 2) == [b"1", partner.client_id.encode(), response.content]
    assert 0 < await redis_client.ttl(key) <= api.resources.settings.order_cache_ttl_seconds


async def test_read_order_serves_cached_copy_when_cached(
    api: Api, partner: Partner, redis_client: redis.Redis
) -> None:
    created = await create_order(api, partner)
    key = api.resources.order_key(created["id"])
    # Prove the response comes from Redis: plant a recognisably different cached body.
    planted = b'{"planted":true}'
    await redis_client.set(key, b"1\n" + partner.client_id.encode() + b"\n" + planted, ex=60)

    response = await api.client.get(f"/v1/orders/{created['id']}", headers=partner.auth())

    assert response.status_code == 200
    assert response.content == planted
    await redis_client.delete(key)


async def test_read_order_returns_304_when_if_none_match_is_current(
    api: Api, partner: Partner
) -> None:
    created = await create_order(api, partner)

    response = await api.client.get(
        f"/v1/orders/{created['id']}", headers={**partner.auth(), "If-None-Match": '"v1"'}
    )

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"v1"'


async def test_read_order_returns_200_when_if_none_match_is_stale(
    api: Api, partner: Partner
) -> None:
    created = await create_order(api, partner)

    response = await api.client.get(
        f"/v1/orders/{created['id']}", headers={**partner.auth(), "If-None-Match": '"v0", W/"v7"'}
    )

    assert response.status_code == 200
    assert response.json()["id"] == created["id"]


async def test_read_order_returns_404_when_order_belongs_to_another_partner(
    api: Api, partner: Partner, secret_hash: str, database_url: str
) -> None:
    created = await create_order(api, partner)
    other = await make_partner(api, secret_hash, database_url)

    response = await api.client.get(f"/v1/orders/{created['id']}", headers=other.auth())

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"order {created['id']} does not exist"


async def test_read_order_returns_404_when_missing(api: Api, partner: Partner) -> None:
    order_id = uuid.uuid4()

    response = await api.client.get(f"/v1/orders/{order_id}", headers=partner.auth())

    assert response.status_code == 404
    problem = response.json()
    assert problem["type"].endswith("/not-found")
    assert problem["instance"] == f"/v1/orders/{order_id}"


async def test_read_order_returns_422_when_id_is_not_a_uuid(api: Api, partner: Partner) -> None:
    response = await api.client.get("/v1/orders/not-a-uuid", headers=partner.auth())

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "order_id"]
