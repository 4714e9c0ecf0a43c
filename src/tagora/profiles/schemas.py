"""Request and response models of the customer 360 API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from tagora.identity.schemas import IdentityPublic

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class CustomerSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    uid: int
    customer_key: str
    name: str | None
    phone: str | None
    email: str | None
    country: str | None
    city: str | None
    member_tier: str | None


class CustomerPublic(CustomerSummary):
    gender: str | None
    birthday: date | None
    province: str | None
    registered_at: datetime | None
    source_channel: str | None
    owner_id: int | None


class OrderSummary(BaseModel):
    order_count: int
    total_spend: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None
    average_order_value: Decimal | None
    cancellation_count: int
    cancelled_amount: Decimal


class TimelineItem(BaseModel):
    at: datetime
    kind: str  # order | cancellation | event | interaction
    title: str
    detail: dict[str, Any]


class Customer360(BaseModel):
    customer: CustomerPublic
    identities: list[IdentityPublic]
    orders: OrderSummary
    masked: bool


class InteractionCreate(BaseModel):
    kind: str
    body: str
    occurred_at: datetime | None = None
