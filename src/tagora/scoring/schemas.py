"""Pydantic shapes of the scoring area."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TrainRequest(BaseModel):
    name: str = Field(description="churn, clv, rfm, clusters or propensity")
    target: str | None = Field(None, description="propensity: the product category, e.g. 服装")
    cutoff: date | None = Field(None, description="last day of data to read; default: the latest order day")
    horizon_days: int = Field(90, ge=1, le=3650)


class PublishRequest(BaseModel):
    cutoff: date | None = Field(None, description="last day of data to read; default: the latest order day")


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
    lifecycle_stage: str
    p_purchase_30d: float
    expected_next_purchase: date


class ScoreReport(BaseModel):
    run: ModelRunPublic
    customers: int
    output: str | None = None
    published_rows: int = 0


class ScorerMetrics(BaseModel):
    """How well one scorer ranks the customers who churned (AUC, PR-AUC) at the evaluated cutoff."""

    scorer: str
    auc: float
    pr_auc: float
    base_rate: float


class PurchaseMetrics(BaseModel):
    """Predicted vs actual purchase days per customer in the horizon after the cutoff."""

    predictor: str
    mae: float
    spearman: float
    predicted_total: float
    actual_total: float


class SurvivalMetrics(BaseModel):
    """Harrell's concordance of a scorer with the waits to the next purchase after the cutoff."""

    scorer: str
    concordance: float


class EvaluationReport(BaseModel):
    cutoff: date
    horizon_days: int
    customers: int
    training_rows: int
    churn: list[ScorerMetrics]
    purchases: list[PurchaseMetrics]
    lift: list[dict[str, float]]
    importance: dict[str, float]
    survival: list[SurvivalMetrics] = []
