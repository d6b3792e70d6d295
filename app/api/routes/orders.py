"""/v1/orders: create (idempotent), list, read (cached), change status, shipment tracking."""

from __future__ import annotations

import base64
import binascii
import math
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from pydantic import AwareDatetime

from app.api.deps import (
    Authenticated,
    JsonBody,
    ReadPrincipal,
    ResourcesDep,
    SessionDep,
    WritePrincipal,
)
from app.carrier.client import CarrierUnavailableError, ShipmentNotFoundError, shipment_document
from app.core.errors import ProblemError, problem_responses
from app.crud import orders as crud
from app.models import ORDER_TRANSITIONS, OrderStatus
from app.resources import Resources
from app.schemas import OrderCreate, OrderOut, OrderPage, OrderStatusUpdate, ShipmentOut

router = APIRouter(
    prefix="/v1/orders",
    tags=["orders"],
    dependencies=[Authenticated],
    responses=problem_responses(400, 401, 403, 415, 422, 500, 503),
)

JSON = "application/json"
_ETAG_PATTERN = re.compile(r'^(?:W/)?"v(\d{1,9})"$')
_ETAG_HEADER_DOC = {
    "ETag": {"description": 'The order version, e.g. "v3".', "schema": {"type": "string"}}
}


def etag(version: int) -> str:
    return f'"v{version}"'


def _etag_versions(header: str) -> set[int] | None:
    """Versions named in an If-Match/If-None-Match list; None for `*`."""
    if header.strip() == "*":
        return None
    versions = set()
    for candidate in header.split(","):
        match = _ETAG_PATTERN.match(candidate.strip())
        if match:
            versions.add(int(match.group(1)))
    return versions


def _not_found(order_id: uuid.UUID) -> ProblemError:
    return ProblemError(404, slug="not-found", detail=f"order {order_id} does not exist")


# A cached order: b"<version>\n<partner id>\n<JSON body>", so a hit needs no JSON parsing.
def _pack(document: dict[str, Any], body: bytes) -> bytes:
    return f"{document['version']}\n{document['partner_id']}\n".encode() + body


def _unpack(value: bytes) -> tuple[int, str, bytes]:
    version, partner_id, body = value.split(b"\n", 2)
    return int(version), partner_id.decode(), body


def _order_response(
    body: bytes, version: int, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        content=body,
        status_code=status_code,
        media_type=JSON,
        headers={"ETag": etag(version), "Cache-Control": "private, no-cache", **(headers or {})},
    )


async def _load_order_cached(
    resources: Resources, order_id: uuid.UUID
) -> tuple[int, str, bytes] | None:
    cached = await resources.cache.get(resources.order_key(order_id))
    return _unpack(cached) if cached is not None else None


async def _load_order_from_database(
    resources: Resources, order_id: uuid.UUID
) -> tuple[tuple[int, str, bytes] | None, tuple[str, bytes] | None]:
    """The order from the database, and the (key, value) to fill the cache with."""
    async with resources.engine.connect() as conn:
        document = await crud.get_order(conn, order_id=order_id)
    if document is None:
        return None, None
    body = orjson.dumps(document)
    loaded = (document["version"], document["partner_id"], body)
    return loaded, (resources.order_key(order_id), _pack(document, body))


async def _fill_order_cache(resources: Resources, key: str, value: bytes) -> None:
    await resources.cache.add(key, value, ttl_seconds=resources.settings.order_cache_ttl_seconds)


async def _load_order(resources: Resources, order_id: uuid.UUID) -> tuple[int, str, bytes] | None:
    cached = await _load_order_cached(resources, order_id)
    if cached is not None:
        return cached
    loaded, fill = await _load_order_from_database(resources, order_id)
    if fill is not None:
        await _fill_order_cache(resources, *fill)
    return loaded


@router.get(
    "/{order_id}",
    response_model=OrderOut,
    summary="Read an order",
    responses={
        200: {"headers": _ETAG_HEADER_DOC},
        304: {"description": "The order still has the version given in If-None-Match."},
        **problem_responses(404),
    },
)
async def read_order(
    order_id: uuid.UUID,
    principal: ReadPrincipal,
    resources: ResourcesDep,
    if_none_match: Annotated[str | None, Header(max_length=1024)] = None,
) -> Response:
    """Read-through cached; answers 304 when If-None-Match names the current version."""
    loaded = await _load_order(resources, order_id)
    # Another partner's order is indistinguishable from a missing one.
    if loaded is None or loaded[1] != principal.client_id:
        raise _not_found(order_id)
    version, _partner, body = loaded
    if if_none_match is not None:
        versions = _etag_versions(if_none_match)
        if versions is None or version in versions:
            return Response(status_code=304, headers={"ETag": etag(version)})
    return _order_response(body, version)


def _cursor_encode(document: dict[str, Any]) -> str:
    raw = orjson.dumps([document["created_at"], document["id"]])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _cursor_decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, order_id = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is None:
            raise ValueError("naive timestamp")
        return moment, uuid.UUID(order_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise ProblemError(
            400, slug="invalid-cursor", detail="the cursor is not one this API returned"
        ) from exc


@router.get(
    "",
    response_model=OrderPage,
    summary="List orders",
    responses=problem_responses(400),
)
async def list_orders(
    principal: ReadPrincipal,
    resources: ResourcesDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` from the previous page (opaque)."),
    ] = None,
    status: Annotated[OrderStatus | None, Query(description="Only orders in this status.")] = None,
    created_from: Annotated[
        AwareDatetime | None, Query(description="Created at or after (inclusive).")
    ] = None,
    created_to: Annotated[
        AwareDatetime | None, Query(description="Created before (exclusive).")
    ] = None,
) -> Response:
    """The caller's orders, newest first; follow `next_cursor` for the next page."""
    after = _cursor_decode(cursor) if cursor else None
    async with resources.engine.connect() as conn:
        items = await crud.list_orders(
            conn,
            partner_id=principal.client_id,
            limit=limit + 1,
            status=status,
            created_from=created_from,
            created_to=created_to,
            after=after,
        )
    next_cursor = _cursor_encode(items[limit - 1]) if len(items) > limit else None
    return Response(
        content=orjson.dumps({"items": items[:limit], "next_cursor": next_cursor}),
        media_type=JSON,
    )


@router.post(
    "",
    status_code=201,
    dependencies=[JsonBody],
    response_model=OrderOut,
    summary="Create an order (idempotent)",
    responses={
        201: {
            "headers": {
                **_ETAG_HEADER_DOC,
                "Location": {"description": "The order's URL.", "schema": {"type": "string"}},
                "Idempotent-Replayed": {
                    "description": "Present (true) when this is a stored earlier response.",
                    "schema": {"type": "string"},
                },
            }
        },
    },
)
async def create_order(
    body: OrderCreate,
    principal: WritePrincipal,
    resources: ResourcesDep,
    session: SessionDep,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[!-~]+$",
            description="Unique per order attempt; retries must repeat it with the same body.",
        ),
    ],
) -> Response:
    """Creates exactly one order per Idempotency-Key; a retry gets the original response."""
    outcome = await crud.create_order(
        session, partner_id=principal.client_id, idempotency_key=idempotency_key, body=body
    )
    if outcome.replayed and outcome.request_hash != crud.request_fingerprint(body):
        raise ProblemError(
            422,
            slug="idempotency-key-reused",
            detail="this Idempotency-Key was already used with a different request body",
        )
    document = orjson.loads(outcome.body)
    headers = {"Location": f"/v1/orders/{outcome.order_id}"}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    else:
        await resources.cache.add(
            resources.order_key(outcome.order_id),
            _pack(document, outcome.body),
            ttl_seconds=resources.settings.order_cache_ttl_seconds,
        )
    return _order_response(
        outcome.body, document["version"], status_code=outcome.status, headers=headers
    )


@router.patch(
    "/{order_id}",
    dependencies=[JsonBody],
    response_model=OrderOut,
    summary="Change an order's status",
    responses={
        200: {"headers": _ETAG_HEADER_DOC},
        **problem_responses(404, 409, 412, 428),
    },
)
async def update_order(
    order_id: uuid.UUID,
    body: OrderStatusUpdate,
    principal: WritePrincipal,
    resources: ResourcesDep,
    if_match: Annotated[
        str | None,
        Header(max_length=1024, description='The ETag the change is based on, e.g. "v1".'),
    ] = None,
) -> Response:
    """Moves the order along its state machine if `If-Match` names its current version."""
    if if_match is None:
        raise ProblemError(
            428,
            slug="precondition-required",
            detail='send If-Match with the ETag of the order version you are changing ("v1")',
        )
    async with resources.write_engine.begin() as conn:
        current = await crud.get_order_version(
            conn, order_id=order_id, partner_id=principal.client_id
        )
        if current is None:
            raise _not_found(order_id)
        versions = _etag_versions(if_match)
        stale = ProblemError(
            412,
            slug="precondition-failed",
            detail="the order has changed since that version; read it again",
            headers={"ETag": etag(current.version)},
        )
        if versions is not None and current.version not in versions:
            raise stale
        allowed = ORDER_TRANSITIONS[current.status]
        if body.status not in allowed:
            raise ProblemError(
                409,
                slug="invalid-transition",
                detail=f"an order in status {current.status.value} cannot become "
                f"{body.status.value}",
                extensions={"allowed": sorted(status.value for status in allowed)},
            )
        if not await crud.update_order_status(
            conn,
            order_id=order_id,
            partner_id=principal.client_id,
            expected_version=current.version,
            expected_status=current.status,
            new_status=body.status,
        ):
            raise stale
        document = await crud.get_order(conn, order_id=order_id)
    assert document is not None
    payload = orjson.dumps(document)
    # Overwrite (not delete): a reader that loaded the old row before this commit uses
    # add-if-absent, so it cannot put the old version back.
    await resources.cache.set(
        resources.order_key(order_id),
        _pack(document, payload),
        ttl_seconds=resources.settings.order_cache_ttl_seconds,
    )
    return _order_response(payload, document["version"])


@router.get(
    "/{order_id}/shipment",
    response_model=ShipmentOut,
    summary="Track an order's shipment",
    responses=problem_responses(404, 409),
)
async def read_shipment(
    order_id: uuid.UUID, principal: ReadPrincipal, resources: ResourcesDep
) -> Response:
    """Live tracking from the carrier; when the carrier is down, the last known data marked
    `stale: true`, or 503 when there is none."""
    # The connection goes back to the pool before the (slow, external) carrier call.
    async with resources.engine.connect() as conn:
        current = await crud.get_order_version(
            conn, order_id=order_id, partner_id=principal.client_id
        )
    if current is None:
        raise _not_found(order_id)
    if current.status not in (OrderStatus.shipped, OrderStatus.delivered):
        raise ProblemError(
            409,
            slug="not-shipped",
            detail=f"order {order_id} is {current.status.value}; it has no shipment yet",
        )
    key = resources.shipment_key(order_id)
    try:
        tracking = await resources.carrier.get_tracking(str(order_id))
    except ShipmentNotFoundError as exc:
        raise ProblemError(
            404, slug="shipment-not-found", detail="the carrier has no shipment for this order"
        ) from exc
    except CarrierUnavailableError as exc:
        cached = await resources.cache.get(key)
        if cached is not None:
            document = orjson.loads(cached)
            document["stale"] = True
            return Response(content=orjson.dumps(document), media_type=JSON)
        retry_after = max(1, math.ceil(exc.retry_after_seconds or 5))
        raise ProblemError(
            503,
            slug="carrier-unavailable",
            detail="the carrier is unavailable and no tracking data is known yet",
            headers={"Retry-After": str(retry_after)},
        ) from exc
    document = shipment_document(
        order_id=str(order_id),
        carrier=resources.carrier.name,
        tracking=tracking,
        fetched_at=datetime.now(UTC),
        stale=False,
    )
    payload = orjson.dumps(document)
    await resources.cache.set(
        key, payload, ttl_seconds=resources.settings.shipment_cache_ttl_seconds
    )
    return Response(content=payload, media_type=JSON)
