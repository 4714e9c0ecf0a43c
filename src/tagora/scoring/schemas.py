"""Pydantic shapes of the scoring area."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TrainRequest(BaseModel):
    name: str = Field(description="churn, clv or rfm")
    cutoff: date | None = Field(None, description="last day of data to read; default: the latest order day")
    horizon_days: int = Field(90, ge=1, le=3650)


class ModelRunPublic(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    name: str
    version: int
    parameters: dict[str, Any]
    data_start: date | None
    data_end: date
    horizon_days: int
    metrics: dict[str, Any]
    actor: str
    trained_at: datetime


class CustomerScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_key: str
    churn_probability: float
    expected_purchases: float
    p_alive: float
    clv: float
    rfm_segment: str
    churn_risk: str
    churn_reasons: str


class ScoreReport(BaseModel):
    run: ModelRunPublic
    customers: int
    output: str | None = None
    published_rows: int = 0
