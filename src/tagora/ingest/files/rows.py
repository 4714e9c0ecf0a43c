"""Pydantic models of one imported customer or product row; validation normalizes every field.

Order lines, events and interactions are in ``fact_rows``; ``kinds`` lists every kind.

Validators read per-field options (date format, time zone) and the default phone region from the
validation context, a ``RowContext``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tagora.ingest.files import normalize


@dataclass(frozen=True)
class RowContext:
    region: str = "CN"
    timezone: str = "Asia/Shanghai"
    formats: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)


def context_of(info: ValidationInfo) -> RowContext:
    return info.context if isinstance(info.context, RowContext) else RowContext()


def required_text(value: Any) -> str:
    out = normalize.text(value)
    if out is None:
        raise PydanticCustomError("missing_value", "a value is required")
    return out


class CustomerRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_key: str
    name: str | None = None
    gender: str | None = None
    birthday: date | None = None
    phone: str | None = None
    email: str | None = None
    country: str | None = None
    province: str | None = None
    city: str | None = None
    registered_at: datetime | None = None
    source_channel: str | None = None
    member_tier: str | None = None

    @field_validator("customer_key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> str:
        key = required_text(value)
        if len(key) > 128:
            raise PydanticCustomError("too_long", "longer than 128 characters")
        return key

    @field_validator("name", "source_channel", "member_tier", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return normalize.text(value)

    @field_validator("gender", mode="before")
    @classmethod
    def _gender(cls, value: Any) -> str | None:
        return normalize.gender(value)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any, info: ValidationInfo) -> str | None:
        return normalize.phone(value, context_of(info).region)

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str | None:
        return normalize.email(value)

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> str | None:
        return normalize.country(value)

    @field_validator("province", mode="before")
    @classmethod
    def _province(cls, value: Any) -> str | None:
        return normalize.province(value)

    @field_validator("city", mode="before")
    @classmethod
    def _city(cls, value: Any) -> str | None:
        return normalize.city(value)

    @field_validator("birthday", mode="before")
    @classmethod
    def _birthday(cls, value: Any, info: ValidationInfo) -> date | None:
        return normalize.day(value, context_of(info).formats.get("birthday"))

    @field_validator("registered_at", mode="before")
    @classmethod
    def _registered_at(cls, value: Any, info: ValidationInfo) -> datetime | None:
        ctx = context_of(info)
        tz = ctx.zones.get("registered_at", ctx.timezone)
        return normalize.timestamp(value, ctx.formats.get("registered_at"), tz)


class ProductRow(BaseModel):
    """A row without ``name`` or ``category_path`` updates a product already in the catalogue (a price
    list, say); a new product needs both (``products.screen`` rejects the row otherwise)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    name: str | None = None
    category_path: str | None = None
    brand: str | None = None
    price: Decimal | None = None

    @field_validator("sku", mode="before")
    @classmethod
    def _sku(cls, value: Any) -> str:
        sku = required_text(value)
        if len(sku) > 64:
            raise PydanticCustomError("too_long", "longer than 64 characters")
        return sku

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str | None:
        return normalize.text(value)

    @field_validator("category_path", mode="before")
    @classmethod
    def _category(cls, value: Any) -> str | None:
        return normalize.category_path(value)

    @field_validator("brand", mode="before")
    @classmethod
    def _brand(cls, value: Any) -> str | None:
        return normalize.text(value)

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, value: Any) -> Decimal | None:
        return normalize.price(value)
