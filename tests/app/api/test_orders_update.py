"""PATCH /v1/orders/{id}: state machine, If-Match optimistic concurrency, cache refresh."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
import redis.asyncio as redis

from tests.app.conftest import Api, Partner, create_order, set_status


async def patch(api: Api, partner: Partner, order_id: str, status: str, if_match: str | None):  # type: ignore[no-untyped-def]
    headers = partner.auth()
    if if_match is not None:
        headers["If-Match"] = if_match
    return await api.client.patch(
        f"/v1/orders/{order_id}", json={"status": status}, headers=headers
    )


async def test_update_order_moves_status_and_bumps_version(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    created = await create_order(api, partner)

    response = await patch(api, partner, created["id"], "confirmed", '"v1"')

    assert response.status_code == 200
    assert response.headers["etag"] == '"v2"'
    body = response.json()
    assert (body["status"], body["version"]) == ("confirmed", 2)
    assert body["updated_at"] > created["updated_at"]
    row = await db.fetchrow(
        "select status, version from orders where id = $1", uuid.UUID(created["id"])
    )
    assert row is not None
    assert tuple(row) == ("confirmed", 2)


async def test_update_order_refreshes_cache(
    api: Api, partner: Partner, redis_client: redis.Redis
) -> None:
    created = await create_order(api, partner)
    first = await api.client.get(f"/v1/orders/{created['id']}", headers=partner.auth())
    assert first.json()["status"] == "pending"

    await patch(api, partner, created["id"], "confirmed", '"v1"')
    after = await api.client.get(f"/v1/orders/{created['id']}", headers=partner.auth())

    assert after.json()["status"] == "confirmed"
    assert after.headers["etag"] == '"v2"'
    cached = await redis_client.get(api.resources.order_key(created["id"]))
    assert cached is not None
    assert cached.startswith(b"2\n")


@pytest.mark.parametrize(
    ("path", "target", "allowed"),
    [
        pytest.param((), "shipped", ["cancelled", "confirmed"], id="pending-to-shipped"),
        pytest.param((), "pending", ["cancelled", "confirmed"], id="pending-to-pending"),
        pytest.param(("cancelled",), "confirmed", [], id="cancelled-is-final"),
        pytest.param(
            ("confirmed", "shipped"), "cancelled", ["delivered"], id="shipped-to-cancelled"
        ),
    ],
)
async def test_reject_update_when_transition_not_allowed(
    api: Api, partner: Partner, path: tuple[str, ...], target: str, allowed: list[str]
) -> None:
    created = await create_order(api, partner)
    version = await set_status(api, partner, created["id"], *path)

    response = await patch(api, partner, created["id"], target, f'"v{version}"')

    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("/invalid-transition")
    assert problem["allowed"] == allowed


async def test_walk_order_through_whole_lifecycle(api: Api, partner: Partner) -> None:
    created = await create_order(api, partner)

    version = await set_status(api, partner, created["id"], "confirmed", "shipped", "delivered")

    assert version == 4


async def test_reject_update_when_if_match_missing(api: Api, partner: Partner) -> None:
    created = await create_order(api, partner)

    response = await patch(api, partner, created["id"], "confirmed", None)

    assert response.status_code == 428
    assert response.json()["type"].endswith("/precondition-required")


async def test_reject_update_when_if_match_stale(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    created = await create_order(api, partner)
    await patch(api, partner, created["id"], "confirmed", '"v1"')

    response = await patch(api, partner, created["id"], "cancelled", '"v1"')

    assert response.status_code == 412
    assert response.headers["etag"] == '"v2"'
    status = await db.fetchval("select status from orders where id = $1", uuid.UUID(created["id"]))
    assert status == "confirmed"


async def test_update_order_when_if_match_is_wildcard(api: Api, partner: Partner) -> None:
    created = await create_order(api, partner)

    response = await patch(api, partner, created["id"], "cancelled", "*")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


async def test_reject_update_when_order_missing(api: Api, partner: Partner) -> None:
    response = await patch(api, partner, str(uuid.uuid4()), "confirmed", '"v1"')

    assert response.status_code == 404


async def test_reject_update_when_status_unknown(api: Api, partner: Partner) -> None:
    created = await create_order(api, partner)

    response = await patch(api, partner, created["id"], "teleported", '"v1"')

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "status"]


async def test_one_update_wins_when_parallel_updates_share_if_match(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    created = await create_order(api, partner)
    targets = ["confirmed", "cancelled"] * 5

    responses = await asyncio.gather(
        *(patch(api, partner, created["id"], target, '"v1"') for target in targets)
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * 9
    winner = next(response for response in responses if response.status_code == 200)
    row = await db.fetchrow(
        "select status, version from orders where id = $1", uuid.UUID(created["id"])
    )
    assert row is not None
    assert tuple(row) == (winner.json()["status"], 2)
