"""GET /v1/orders: cursor pagination, filters, stable ordering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.app.conftest import Api, Partner, create_order, set_status


async def test_list_orders_pages_through_all_orders_newest_first(
    api: Api, partner: Partner
) -> None:
    created = [await create_order(api, partner, external_reference=f"PO-{i}") for i in range(5)]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await api.client.get("/v1/orders", params=params, headers=partner.auth())
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == [order["id"] for order in reversed(created)]


async def test_list_orders_filters_by_status(api: Api, partner: Partner) -> None:
    pending = await create_order(api, partner)
    confirmed = await create_order(api, partner)
    await set_status(api, partner, confirmed["id"], "confirmed")

    response = await api.client.get(
        "/v1/orders", params={"status": "confirmed"}, headers=partner.auth()
    )

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [confirmed["id"]]
    assert pending["id"] not in response.text


async def test_list_orders_filters_by_creation_window(api: Api, partner: Partner) -> None:
    before = datetime.now(UTC)
    inside = await create_order(api, partner)
    after = datetime.now(UTC) + timedelta(microseconds=1)
    await create_order(api, partner)

    response = await api.client.get(
        "/v1/orders",
        params={"created_from": before.isoformat(), "created_to": after.isoformat()},
        headers=partner.auth(),
    )

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [inside["id"]]


async def test_list_orders_returns_only_the_callers_orders(api: Api, partner: Partner) -> None:
    response = await api.client.get("/v1/orders", headers=partner.auth())

    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def test_list_orders_returns_400_when_cursor_is_forged(api: Api, partner: Partner) -> None:
    response = await api.client.get(
        "/v1/orders", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=partner.auth()
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/invalid-cursor")


async def test_list_orders_returns_422_when_limit_out_of_bounds(api: Api, partner: Partner) -> None:
    too_big = await api.client.get("/v1/orders", params={"limit": 101}, headers=partner.auth())
    too_small = await api.client.get("/v1/orders", params={"limit": 0}, headers=partner.auth())

    assert too_big.status_code == too_small.status_code == 422
    assert too_big.json()["errors"][0]["loc"] == ["query", "limit"]


async def test_list_orders_returns_422_when_timestamp_has_no_timezone(
    api: Api, partner: Partner
) -> None:
    response = await api.client.get(
        "/v1/orders", params={"created_from": "2026-01-01T00:00:00"}, headers=partner.auth()
    )

    assert response.status_code == 422
