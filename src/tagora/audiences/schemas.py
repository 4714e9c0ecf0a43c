"""Request and response models of the audiences API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class CountRequest(BaseModel):
    expression: Any = None  # the JSON form
    text: str | None = Field(default=None, max_length=4000)  # or the rule-language form


class CountPublic(BaseModel):
    count: int
    base: int
    ms: float


class SegmentCreate(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name: str = Field(min_length=1, max_length=256)
    description: str = ""
    kind: Literal["dynamic", "static"] = "dynamic"
    expression: Any = None
    text: str | None = Field(default=None, max_length=4000)


class SegmentUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    description: str | None = None
    expression: Any = None
    text: str | None = Field(default=None, max_length=4000)


class SegmentPublic(BaseModel):
    code: str
    name: str
    description: str
    kind: str
    expression: dict[str, Any]
    owner: str
    size: int
    refreshed_at: datetime | None
    created_at: datetime


class SizePoint(BaseModel):
    day: date
    size: int


class Membership(BaseModel):
    customer_key: str
    segment: str
    member: bool


class Driver(BaseModel):
    tag: str
    value: str
    weight: float  # log(share in seed / share in base): what one shared value adds to a score


class Lookalike(BaseModel):
    """Customers outside a seed segment who look most like it, best first, and the values that say so."""

    segment: str
    seed_size: int
    customers: list[dict[str, Any]]  # a customer summary (masked per role) with its ``score``
    drivers: list[Driver]
