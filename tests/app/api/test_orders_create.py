"""POST /v1/orders: validation, idempotency (also under concurrent retries), rows written."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from tests.app.conftest import Api, Partner, order_body


async def post(api: Api, partner: Partner, body: dict[str, Any], key: str | None = None) -> Any:
    headers = partner.auth()
    if key is not None:
        headers["Idempotency-Key"] = key
    return await api.client.post("/v1/orders", json=body, headers=headers)


async def test_create_order_returns_201_with_location_etag_and_rows(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    response = await post(api, partner, order_body(), key="create-1")

    assert response.status_code == 201
    body = response.json()
    order_id = body["id"]
    assert response.headers["location"] == f"/v1/orders/{order_id}"
    assert response.headers["etag"] == '"v1"'
    assert response.headers["content-type"] == "application/json"
    assert "idempotent-replayed" not in response.headers
    assert body["status"] == "pending"
    assert body["version"] == 1
    assert body["partner_id"] == partner.client_id
    assert body["currency"] == "JPY"
    assert body["total"] == "3200"
    assert body["external_reference"] == "PO-1"
    assert body["lines"] == [
        {"line_no": 1, "sku": "SKU-1", "quantity": 2, "unit_price": "1200"},
        {"line_no": 2, "sku": "SKU-2", "quantity": 1, "unit_price": "800"},
    ]
    row = await db.fetchrow("select * from orders where id = $1", uuid.UUID(order_id))
    assert row is not None
    assert (row["partner_id"], row["status"], row["currency"], row["total"], row["version"]) == (
        partner.client_id,
        "pending",
        "JPY",
        Decimal("3200"),
        1,
    )
    lines = await db.fetch(
        "select line_no, sku, quantity, unit_price from order_lines where order_id = $1"
        " order by line_no",
        uuid.UUID(order_id),
    )
    assert [tuple(line) for line in lines] == [
        (1, "SKU-1", 2, Decimal("1200")),
        (2, "SKU-2", 1, Decimal("800")),
    ]
    record = await db.fetchrow(
        "select order_id, response_status from idempotency_records"
        " where partner_id = $1 and key = 'create-1'",
        partner.client_id,
    )
    assert record is not None
    assert (str(record["order_id"]), record["response_status"]) == (order_id, 201)


async def test_create_order_formats_amounts_with_currency_minor_units(
    api: Api, partner: Partner
) -> None:
    body = order_body(
        currency="USD",
        lines=[{"sku": "SKU-9", "quantity": 3, "unit_price": "19.9"}],
        total="59.70",
    )

    response = await post(api, partner, body, key=uuid.uuid4().hex)

    assert response.status_code == 201, response.text
    assert response.json()["total"] == "59.70"
    assert response.json()["lines"][0]["unit_price"] == "19.90"


async def test_replay_order_when_same_key_and_same_body(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    first = await post(api, partner, order_body(), key="replay-1")
    # Same content, different formatting/key order: still the same request.
    second = await api.client.post(
        "/v1/orders",
        content=(
            b'{"total": "3200", "currency": "JPY", "external_reference": "PO-1", "lines": ['
            b'{"unit_price": "1200", "quantity": 2, "sku": "SKU-1"},'
            b'{"sku": "SKU-2", "quantity": 1, "unit_price": "800"}]}'
        ),
        headers={
            **partner.auth(),
            "Idempotency-Key": "replay-1",
            "Content-Type": "application/json",
        },
    )

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["idempotent-replayed"] == "true"
    count = await db.fetchval(
        "select count(*) from orders where partner_id = $1", partner.client_id
    )
    assert count == 1


async def test_reject_order_when_key_reused_with_different_body(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    await post(api, partner, order_body(), key="reuse-1")

    response = await post(api, partner, order_body(external_reference="PO-2"), key="reuse-1")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/idempotency-key-reused")
    count = await db.fetchval(
        "select count(*) from orders where partner_id = $1", partner.client_id
    )
    assert count == 1


async def test_keys_are_scoped_per_partner(
    api: Api, partner: Partner, secret_hash: str, database_url: str
) -> None:
    from tests.app.conftest import make_partner

    other = await make_partner(api, secret_hash, database_url)

    mine = await post(api, partner, order_body(), key="shared-key")
    theirs = await post(api, other, order_body(), key="shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "idempotent-replayed" not in theirs.headers


async def test_create_exactly_one_order_when_retries_race(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    key = uuid.uuid4().hex

    responses = await asyncio.gather(
        *(post(api, partner, order_body(), key=key) for _ in range(12))
    )

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum("idempotent-replayed" not in response.headers for response in responses) == 1
    count = await db.fetchval(
        "select count(*) from orders where partner_id = $1", partner.client_id
    )
    assert count == 1


async def test_reject_order_when_idempotency_key_missing(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    response = await post(api, partner, order_body())

    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    count = await db.fetchval(
        "select count(*) from orders where partner_id = $1", partner.client_id
    )
    assert count == 0


@pytest.mark.parametrize(
    ("overrides", "error_type"),
    [
        pytest.param({"total": 3200}, "amount_type", id="total-as-number"),
        pytest.param({"total": 3200.0}, "amount_type", id="total-as-float"),
        pytest.param(
            {"lines": [{"sku": "A", "quantity": 1, "unit_price": 1.1}], "total": "1.1"},
            "amount_type",
            id="price-as-float",
        ),
        pytest.param({"total": "1e3"}, "amount_format", id="exponent-notation"),
        pytest.param({"total": "-5"}, "amount_format", id="negative"),
        pytest.param({"currency": "XXY"}, "currency_unknown", id="unknown-currency"),
        pytest.param({"currency": "jpy"}, "string_pattern_mismatch", id="lower-case-currency"),
        pytest.param({"total": "3200.5"}, "amount_precision", id="yen-with-decimals"),
        pytest.param({"total": "3201"}, "total_mismatch", id="total-mismatch"),
        pytest.param({"lines": []}, "too_short", id="no-lines"),
        pytest.param(
            {"lines": [{"sku": "A", "quantity": 0, "unit_price": "1"}], "total": "0"},
            "greater_than_equal",
            id="zero-quantity",
        ),
        pytest.param(
            {"lines": [{"sku": "A", "quantity": "2", "unit_price": "1"}], "total": "2"},
            "int_type",
            id="quantity-as-string",
        ),
        pytest.param({"unexpected": 1}, "extra_forbidden", id="unknown-field"),
    ],
)
async def test_reject_order_when_body_invalid(
    api: Api, partner: Partner, db: asyncpg.Connection, overrides: dict[str, Any], error_type: str
) -> None:
    response = await post(api, partner, order_body(**overrides), key=uuid.uuid4().hex)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["request_id"] == response.headers["x-request-id"]
    assert error_type in {error["type"] for error in problem["errors"]}
    count = await db.fetchval(
        "select count(*) from orders where partner_id = $1", partner.client_id
    )
    assert count == 0


async def test_reject_order_when_token_lacks_write_scope(api: Api, partner: Partner) -> None:
    response = await api.client.post(
        "/v1/orders",
        json=order_body(),
        headers={**partner.auth(partner.read_token), "Idempotency-Key": "k"},
    )

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_create_order_returns_415_when_the_body_is_not_json(
    api: Api, partner: Partner, db: asyncpg.Connection
) -> None:
    headers = {**partner.auth(), "Idempotency-Key": "plain-1", "Content-Type": "text/plain"}
    response = await api.client.post(
        "/v1/orders", content=json.dumps(order_body()), headers=headers
    )

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 415
    assert response.json()["request_id"]
    count = await db.fetchval(
        "select count(*) from orders where partner_id = $1", partner.client_id
    )
    assert count == 0
