"""Request and response models (the OpenAPI contract)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.currencies import MINOR_UNITS
from app.models import OrderStatus

_AMOUNT_PATTERN = re.compile(r"^(0|[1-9]\d{0,13})(\.\d{1,4})?$")


def _parse_amount(value: Any) -> Decimal:
    # Amounts travel as decimal strings: a JSON number would pass through a binary float
    # somewhere between the partner and us.
    if not isinstance(value, str):
        raise PydanticCustomError(
            "amount_type", 'amounts must be decimal strings such as "12.50", not numbers'
        )
    if not _AMOUNT_PATTERN.match(value):
        raise PydanticCustomError(
            "amount_format",
            "amounts must be non-negative decimals with at most 14 integer digits and 4 "
            "decimal places",
        )
    return Decimal(value)


Amount = Annotated[
    Decimal,
    BeforeValidator(_parse_amount),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _AMOUNT_PATTERN.pattern,
            "examples": ["1200", "12.50"],
            "description": "A non-negative decimal amount as a string (never a JSON number).",
        }
    ),
]

Currency = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        description="An ISO 4217 currency code in circulation.",
        examples=["JPY", "USD"],
    ),
]


def format_amount(value: Decimal, currency: str) -> str:
    """An amount rendered with exactly the currency's minor units."""
    return f"{value:.{MINOR_UNITS.get(currency, 2)}f}"


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", examples=["SKU-1001"])
    quantity: StrictInt = Field(ge=1, le=100_000, examples=[2])
    unit_price: Amount


class OrderCreate(BaseModel):
    """A new order. `total` must equal the sum of quantity times unit price over the lines."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "external_reference": "PO-2026-0042",
                    "currency": "JPY",
                    "lines": [
                        {"sku": "SKU-1001", "quantity": 2, "unit_price": "1200"},
                        {"sku": "SKU-2002", "quantity": 1, "unit_price": "800"},
                    ],
                    "total": "3200",
                }
            ]
        },
    )

    external_reference: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="The partner's own reference (printable ASCII).",
    )
    currency: Currency
    lines: list[OrderLineIn] = Field(min_length=1, max_length=100)
    total: Amount

    @model_validator(mode="after")
    def _check_amounts(self) -> OrderCreate:
        minor_units = MINOR_UNITS.get(self.currency)
        if minor_units is None:
            raise PydanticCustomError(
                "currency_unknown",
                "currency {currency} is not an ISO 4217 currency in circulation",
                {"currency": self.currency},
            )
        amounts = [line.unit_price for line in self.lines] + [self.total]
        if any(-int(amount.as_tuple().exponent) > minor_units for amount in amounts):
            raise PydanticCustomError(
                "amount_precision",
                "{currency} amounts have at most {places} decimal places",
                {"currency": self.currency, "places": minor_units},
            )
        computed = sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))
        if computed != self.total:
            raise PydanticCustomError(
                "total_mismatch",
                "total {total} does not equal the sum of the lines {computed}",
                {"total": str(self.total), "computed": str(computed)},
            )
        if computed >= Decimal("1e14"):
            raise PydanticCustomError("total_too_large", "the order total is too large")
        return self


class OrderLineOut(BaseModel):
    line_no: int = Field(examples=[1])
    sku: str = Field(examples=["SKU-1001"])
    quantity: int = Field(examples=[2])
    unit_price: str = Field(examples=["1200"])


class OrderOut(BaseModel):
    id: uuid.UUID
    partner_id: str = Field(examples=["acme-logistics"])
    external_reference: str | None = Field(examples=["PO-2026-0042"])
    status: OrderStatus
    currency: str = Field(examples=["JPY"])
    total: str = Field(examples=["3200"])
    version: int = Field(description="Increments on every change; the ETag is derived from it.")
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLineOut]


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class OrderStatusUpdate(BaseModel):
    """A status change; allowed transitions: pending → confirmed | cancelled, confirmed →
    shipped | cancelled, shipped → delivered."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "confirmed"}]}
    )

    status: OrderStatus


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(examples=[900])
    scope: str = Field(examples=["orders:read orders:write"])


class ShipmentEvent(BaseModel):
    time: datetime
    location: str | None
    description: str


class ShipmentOut(BaseModel):
    order_id: uuid.UUID
    carrier: str = Field(examples=["mock-carrier"])
    tracking_number: str = Field(examples=["MC123456789JP"])
    status: str = Field(examples=["in_transit"])
    estimated_delivery: datetime | None
    events: list[ShipmentEvent]
    fetched_at: datetime = Field(description="When this data was read from the carrier.")
    stale: bool = Field(
        description="True when the carrier is unavailable and this is the last known data."
    )


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class CheckOut(BaseModel):
    status: str = Field(examples=["ok"])
    latency_ms: float | None = None


class ReadinessOut(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, CheckOut]


class VersionOut(BaseModel):
    version: str = Field(examples=["0.1.0"])
    git_revision: str = Field(examples=["9525c32"])
    environment: str = Field(examples=["prod"])


class Jwks(BaseModel):
    keys: list[dict[str, str]]
