"""GET /v1/orders/{id}/shipment: the carrier behind retries, a breaker and a stale cache."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as redis

from tests.app.conftest import Api, Partner, create_order, make_partner, set_status


async def shipped_order(api: Api, partner: Partner) -> str:
    order = await create_order(api, partner)
    await set_status(api, partner, order["id"], "confirmed", "shipped")
    return str(order["id"])


def set_mode(api: Api, mode: str, **options: object) -> None:
    state = api.carrier
    state.mode = mode
    state.latency_seconds = float(options.get("latency_seconds", 0.0))  # type: ignore[arg-type]
    state.status = int(options.get("status", 503))  # type: ignore[call-overload]
    state.failures = options.get("failures")  # type: ignore[assignment]
    state.retry_after = options.get("retry_after")  # type: ignore[assignment]


async def test_read_shipment_returns_live_tracking(
    fresh_api: Api, secret_hash: str, database_url: str, redis_client: redis.Redis
) -> None:
    partner = await make_partner(fresh_api, secret_hash, database_url)
    order_id = await shipped_order(fresh_api, partner)

    response = await fresh_api.client.get(f"/v1/orders/{order_id}/shipment", headers=partner.auth())

    assert response.status_code == 200
    body = response.json()
    assert body["order_id"] == order_id
    assert body["stale"] is False
    assert body["status"] == "in_transit"
    assert body["tracking_number"].startswith("MC")
    assert [event["description"] for event in body["events"]] == [
        "Picked up",
        "Arrived at sorting facility",
    ]
    assert fresh_api.carrier.requests == 1
    assert await redis_client.exists(fresh_api.resources.shipment_key(order_id)) == 1


async def test_read_shipment_returns_409_when_order_not_shipped(api: Api, partner: Partner) -> None:
    order = await create_order(api, partner)

    response = await api.client.get(f"/v1/orders/{order['id']}/shipment", headers=partner.auth())

    assert response.status_code == 409
    assert response.json()["type"].endswith("/not-shipped")


async def test_read_shipment_retries_when_carrier_fails_then_recovers(
    fresh_api: Api, secret_hash: str, database_url: str
) -> None:
    partner = await make_partner(fresh_api, secret_hash, database_url)
    order_id = await shipped_order(fresh_api, partner)
    set_mode(fresh_api, "error", status=503, failures=2)

    response = await fresh_api.client.get(f"/v1/orders/{order_id}/shipment", headers=partner.auth())

    assert response.status_code == 200
    assert response.json()["stale"] is False
    assert fresh_api.carrier.requests == 3
    assert fresh_api.carrier.failed == 2


async def test_read_shipment_honours_retry_after_when_rate_limited(
    fresh_api: Api, secret_hash: str, database_url: str
) -> None:
    partner = await make_partner(fresh_api, secret_hash, database_url)
    order_id = await shipped_order(fresh_api, partner)
    set_mode(fresh_api, "rate_limit", failures=1, retry_after=1)

    started = time.monotonic()
    response = await fresh_api.client.get(f"/v1/orders/{order_id}/shipment", headers=partner.auth())
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert fresh_api.carrier.requests == 2
    # Back-off alone is capped at 0.05 s in these settings; only Retry-After explains ~1 s.
    assert 0.9 <= elapsed < 1.5


async def test_read_shipment_returns_503_quickly_when_carrier_hangs_and_nothing_cached(
    fresh_api: Api, secret_hash: str, database_url: str
) -> None:
    partner = await make_partner(fresh_api, secret_hash, database_url)
    order_id = await shipped_order(fresh_api, partner)
    set_mode(fresh_api, "timeout")

    started = time.monotonic()
    response = await fresh_api.client.get(f"/v1/orders/{order_id}/shipment", headers=partner.auth())
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["type"].endswith("/carrier-unavailable")
    total = fresh_api.resources.settings.carrier_total_timeout_seconds
    assert elapsed < total + 0.5


async def test_read_shipment_serves_stale_data_when_carrier_down(
    fresh_api: Api, secret_hash: str, database_url: str
) -> None:
    partner = await make_partner(fresh_api, secret_hash, database_url)
    order_id = await shipped_order(fresh_api, partner)
    live = await fresh_api.client.get(f"/v1/orders/{order_id}/shipment", headers=partner.auth())
    set_mode(fresh_api, "error", status=500)

    response = await fresh_api.client.get(f"/v1/orders/{order_id}/shipment", headers=partner.auth())

    assert response.status_code == 200
    body = response.json()
    assert body["stale"] is True
    assert {**body, "stale": False} == live.json()


async def test_breaker_opens_when_carrier_keeps_failing(
    fresh_api: Api, secret_hash: str, database_url: str
) -> None:
    partner = await make_partner(fresh_api, secret_hash, database_url)
    order_id = await shipped_order(fresh_api, partner)
    set_mode(fresh_api, "error", status=502)
    retries = fresh_api.resources.settings.carrier_max_retries
    threshold = fresh_api.resources.settings.carrier_breaker_failure_threshold

    for _ in range(threshold):
        failed = await fresh_api.client.get(
            f"/v1/orders/{order_id}/shipment", headers=partner.auth()
        )
        assert failed.status_code == 503
    calls_when_opened = fresh_api.carrier.requests
    started = time.monotonic()
    short_circuited = await fresh_api.client.get(
        f"/v1/orders/{order_id}/shipment", headers=partner.auth()
    )

    assert calls_when_opened == threshold * (retries + 1)
    assert fresh_api.resources.carrier.breaker.state == "open"
    assert short_circuited.status_code == 503
    assert fresh_api.carrier.requests == calls_when_opened  # the carrier was not called
    assert time.monotonic() - started < 0.2


async def test_breaker_closes_when_probe_succeeds_after_reset(
    fresh_api: Api, secret_hash: str, database_url: str
) -> None:
    partner = await make_partner(fresh_api, secret_hash, database_url)
    order_id = await shipped_order(fresh_api, partner)
    set_mode(fresh_api, "error", status=503)
    for _ in range(fresh_api.resources.settings.carrier_breaker_failure_threshold):
        await fresh_api.client.get(f"/v1/orders/{order_id}/shipment", headers=partner.auth())
    assert fresh_api.resources.carrier.breaker.state == "open"
    set_mode(fresh_api, "ok")
    await asyncio.sleep(fresh_api.resources.settings.carrier_breaker_reset_seconds)

    response = await fresh_api.client.get(f"/v1/orders/{order_id}/shipment", headers=partner.auth())

    assert response.status_code == 200
    assert response.json()["stale"] is False
    assert fresh_api.resources.carrier.breaker.state == "closed"
