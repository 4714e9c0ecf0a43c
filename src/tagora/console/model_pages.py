"""Console: the model registry — every model's latest run, and a run's metrics with its charts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from tagora.console.pages import StoresDep, console_user, show
from tagora.core.auth import Permission, Principal
from tagora.core.errors import AppError, CoreErrorCode
from tagora.scoring import facade as scoring

router = APIRouter(include_in_schema=False)


def model_reader(principal: Annotated[Principal, Depends(console_user)]) -> Principal:
    if not principal.can(Permission.MODELS_READ):
        raise AppError(CoreErrorCode.FORBIDDEN, "you may not see models", 403)
    return principal


Reader = Annotated[Principal, Depends(model_reader)]


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, stores: StoresDep, principal: Reader) -> Response:
    latest: dict[str, scoring.ModelRunPublic] = {}
    for run in scoring.list_runs(stores):  # newest version first within each name
        latest.setdefault(run.name, run)
    return show(request, "models.html", principal, runs=list(latest.values()))


@router.get("/models/{name}", response_class=HTMLResponse)
def model(
    request: Request, stores: StoresDep, principal: Reader, name: str, version: int | None = None
) -> Response:
    run = scoring.show_run(stores, name, version)
    versions = [r.version for r in scoring.list_runs(stores, name)]
    return show(request, "model.html", principal, run=run, versions=versions, chart=chart_data(run.metrics))


def chart_data(metrics: dict[str, Any]) -> dict[str, Any]:
    """What model.js draws: the lift by decile, the calibration curve and the feature importance."""
    lift = metrics.get("lift") or []
    calibration = metrics.get("calibration") or []
    importance = metrics.get("importance") or {}
    return {
        "lift": [
            {"group": int(r["group"]), "lift": r["lift"], "capture": r["cumulative_capture"]} for r in lift
        ],
        "calibration": [{"predicted": r["predicted"], "observed": r["observed"]} for r in calibration],
        "importance": [{"feature": k, "drop": v} for k, v in list(importance.items())[:10]],
    }
