"""Scoring API: model runs (list, show, train) and per-customer scores."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tagora.core.auth import Permission, Principal, require
from tagora.core.deps import get_stores
from tagora.core.stores import Stores
from tagora.privacy.facade import mask_text
from tagora.scoring import logic
from tagora.scoring.schemas import CustomerScore, ModelRunPublic, PublishRequest, ScoreReport, TrainRequest

router = APIRouter(prefix="/api/models", tags=["models"])
StoresDep = Annotated[Stores, Depends(get_stores)]
Reader = Annotated[Principal, Depends(require(Permission.MODELS_READ))]
Trainer = Annotated[Principal, Depends(require(Permission.MODELS_TRAIN))]


@router.get("", response_model=list[ModelRunPublic])
def list_runs(stores: StoresDep, actor: Reader, name: str | None = None) -> list[ModelRunPublic]:
    return logic.list_runs(stores, name)


@router.post("/train", response_model=ModelRunPublic, status_code=201)
def train(stores: StoresDep, actor: Trainer, body: TrainRequest) -> ModelRunPublic:
    return logic.train_model(stores, actor, body.name, body.cutoff, body.horizon_days, body.target)


@router.post("/publish", response_model=ScoreReport, status_code=201)
def publish(stores: StoresDep, actor: Trainer, body: PublishRequest) -> ScoreReport:
    """Score every customer and publish the results as model tags."""
    return logic.publish_model_tags(stores, actor, body.cutoff)


@router.get("/scores", response_model=list[CustomerScore])
def scores(
    stores: StoresDep,
    actor: Reader,
    cutoff: date,
    horizon_days: Annotated[int, Query(ge=1, le=3650)] = 90,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CustomerScore]:
    """Scores as of ``cutoff`` (models trained on data up to it), highest churn probability first."""
    frame = logic.compute_scores(stores, cutoff, horizon_days)
    top = frame.sort_values("churn_probability", ascending=False).head(limit)
    rows = top.loc[:, list(logic.EXPORT_COLUMNS)].to_dict("records")
    if not actor.can(Permission.PII_VIEW):  # a key made of an e-mail or a phone is masked like them
        rows = [{**row, "customer_key": mask_text(row["customer_key"])} for row in rows]
    return [CustomerScore.model_validate(row) for row in rows]


@router.get("/{name}", response_model=ModelRunPublic)
def show(stores: StoresDep, actor: Reader, name: str, version: int | None = None) -> ModelRunPublic:
    return logic.show_run(stores, name, version)
