"""Orders data access: plain keyword-only functions.

Reads use Core selects on a bare connection (no ORM identity map or object construction:
the hot path goes straight from rows to a JSON document). Writes use the ORM session.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Row, and_, bindparam, delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import (
    IdempotencyRecord,
    Order,
    OrderLine,
    OrderStatus,
    order_lines_table,
    orders_table,
)
from app.schemas import OrderCreate, format_amount

IDEMPOTENCY_RETENTION = timedelta(hours=24)

_o = orders_table.c
_l = order_lines_table.c
_ORDER_COLUMNS = (
    _o.id,
    _o.partner_id,
    _o.external_reference,
    _o.status,
    _o.currency,
    _o.total,
    _o.version,
    _o.created_at,
    _o.updated_at,
)
# The order and its lines in one round trip: one row per line (one row, line columns null,
# for an order without lines).
_SELECT_ORDER_WITH_LINES = (
    select(
        *_ORDER_COLUMNS,
        _l.line_no,
        _l.sku,
        _l.quantity,
        _l.unit_price,
    )
    .select_from(orders_table.outerjoin(order_lines_table, _l.order_id == _o.id))
    .where(_o.id == bindparam("order_id"))
    .order_by(_l.line_no)
)


def _utc(value: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def order_document(order: Row[Any] | Any, lines: list[Any]) -> dict[str, Any]:
    currency = order.currency
    return {
        "id": str(order.id),
        "partner_id": order.partner_id,
        "external_reference": order.external_reference,
        "status": order.status,
        "currency": currency,
        "total": format_amount(Decimal(order.total), currency),
        "version": order.version,
        "created_at": _utc(order.created_at).isoformat(),
        "updated_at": _utc(order.updated_at).isoformat(),
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": format_amount(Decimal(line.unit_price), currency),
            }
            for line in lines
        ],
    }


async def get_order(conn: AsyncConnection, *, order_id: uuid.UUID) -> dict[str, Any] | None:
    """The order with its lines, as a JSON-ready document (any partner's: callers check)."""
    rows = (await conn.execute(_SELECT_ORDER_WITH_LINES, {"order_id": order_id})).all()
    if not rows:
        return None
    return order_document(rows[0], [row for row in rows if row.line_no is not None])


async def list_orders(
    conn: AsyncConnection,
    *,
    partner_id: str,
    limit: int,
    status: OrderStatus | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """A page of the partner's orders, newest first (ties broken by id, so pages are stable)."""
    conditions = [_o.partner_id == partner_id]
    if status is not None:
        conditions.append(_o.status == status.value)
    if created_from is not None:
        conditions.append(_o.created_at >= created_from)
    if created_to is not None:
        conditions.append(_o.created_at < created_to)
    if after is not None:
        conditions.append(tuple_(_o.created_at, _o.id) < tuple_(*after))
    statement = (
        select(*_ORDER_COLUMNS)
        .where(and_(*conditions))
        .order_by(_o.created_at.desc(), _o.id.desc())
        .limit(limit)
    )
    orders = (await conn.execute(statement)).all()
    if not orders:
        return []
    lines_by_order: dict[uuid.UUID, list[Any]] = {order.id: [] for order in orders}
    line_rows = await conn.execute(
        select(_l.order_id, _l.line_no, _l.sku, _l.quantity, _l.unit_price)
        .where(_l.order_id.in_(list(lines_by_order)))
        .order_by(_l.order_id, _l.line_no)
    )
    for line in line_rows:
        lines_by_order[line.order_id].append(line)
    return [order_document(order, lines_by_order[order.id]) for order in orders]


def request_fingerprint(body: OrderCreate) -> str:
    """SHA-256 of the canonical body: same order, same fingerprint, whatever the formatting."""
    canonical = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True, slots=True)
class CreateOutcome:
    status: int
    body: bytes
    order_id: uuid.UUID
    replayed: bool
    request_hash: str


async def create_order(
    session: AsyncSession,
    *,
    partner_id: str,
    idempotency_key: str,
    body: OrderCreate,
    now: datetime | None = None,
) -> CreateOutcome:
    """Create the order, or return the stored outcome of an earlier request with this key.

    The idempotency record is inserted first, in the order's transaction: a concurrent
    request with the same key blocks on its primary key until this commits, then fails
    with a unique violation and replays the stored response. Exactly one order results.
    Callers compare `request_hash` with their own to reject a reused key.
    """
    now = now or datetime.now(UTC)
    fingerprint = request_fingerprint(body)
    order_id = uuid.uuid4()
    order = Order(
        id=order_id,
        partner_id=partner_id,
        external_reference=body.external_reference,
        status=OrderStatus.pending.value,
        currency=body.currency,
        total=body.total,
        version=1,
        created_at=now,
        updated_at=now,
        lines=[
            OrderLine(
                line_no=number, sku=line.sku, quantity=line.quantity, unit_price=line.unit_price
            )
            for number, line in enumerate(body.lines, start=1)
        ],
    )
    document = order_document(order, order.lines)
    response_body = orjson.dumps(document)
    try:
        async with session.begin():
            # Expired records for this key are dropped so the key can be used again.
            await session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.partner_id == partner_id,
                    IdempotencyRecord.key == idempotency_key,
                    IdempotencyRecord.expires_at < now,
                )
            )
            session.add(order)
            await session.flush()
            session.add(
                IdempotencyRecord(
                    partner_id=partner_id,
                    key=idempotency_key,
                    request_hash=fingerprint,
                    response_status=201,
                    response_body=response_body.decode(),
                    order_id=order_id,
                    created_at=now,
                    expires_at=now + IDEMPOTENCY_RETENTION,
                )
            )
            await session.flush()
    except IntegrityError:
        record = await get_idempotency_record(
            session, partner_id=partner_id, idempotency_key=idempotency_key
        )
        if record is None:
            raise
        return record
    return CreateOutcome(
        status=201,
        body=response_body,
        order_id=order_id,
        replayed=False,
        request_hash=fingerprint,
    )


async def get_idempotency_record(
    session: AsyncSession, *, partner_id: str, idempotency_key: str
) -> CreateOutcome | None:
    async with session.begin():
        record = await session.get(IdempotencyRecord, (partner_id, idempotency_key))
        if record is None:
            return None
        return CreateOutcome(
            status=record.response_status,
            body=record.response_body.encode(),
            order_id=record.order_id,
            replayed=True,
            request_hash=record.request_hash,
        )


@dataclass(frozen=True, slots=True)
class CurrentVersion:
    status: OrderStatus
    version: int


async def get_order_version(
    conn: AsyncConnection, *, order_id: uuid.UUID, partner_id: str
) -> CurrentVersion | None:
    row = (
        await conn.execute(
            select(_o.status, _o.version).where(_o.id == order_id, _o.partner_id == partner_id)
        )
    ).first()
    return None if row is None else CurrentVersion(OrderStatus(row.status), row.version)


async def update_order_status(
    conn: AsyncConnection,
    *,
    order_id: uuid.UUID,
    partner_id: str,
    expected_version: int,
    expected_status: OrderStatus,
    new_status: OrderStatus,
    now: datetime | None = None,
) -> bool:
    """Compare-and-set: applies only if the row still has `expected_version`.

    Returns False when another writer got there first (the caller answers 412).
    """
    result = await conn.execute(
        update(Order)
        .where(
            _o.id == order_id,
            _o.partner_id == partner_id,
            _o.version == expected_version,
            _o.status == expected_status.value,
        )
        .values(
            status=new_status.value,
            version=_o.version + 1,
            updated_at=now or datetime.now(UTC),
        )
    )
    return result.rowcount == 1
