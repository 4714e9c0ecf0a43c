"""Request and response models of the recommendations API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class LinkedItem(BaseModel):
    sku: str
    name: str


class RecommendedItem(BaseModel):
    rank: int
    sku: str
    name: str
    score: float
    reason: str
    because: list[LinkedItem]  # items from the customer's own history the reason refers to


class Recommendations(BaseModel):
    customer_key: str
    uid: int
    algorithm: str
    trained_at: datetime | None
    cold_start: bool  # no history: popular items
    items: list[RecommendedItem]


class TargetCustomer(BaseModel):
    rank: int
    customer_key: str
    score: float
    reason: str


class TargetCustomers(BaseModel):
    sku: str
    name: str
    algorithm: str
    customers: list[TargetCustomer]


class TrainReport(BaseModel):
    algorithm: str
    path: str
    seconds: float
    customers: int
    items: int
    interactions: int
    blend: dict[str, list[str] | list[float]] | None = None
