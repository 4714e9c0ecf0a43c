"""Scoring verbs: train a model and record the run; score every customer, write the file, publish scores."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy import func, select

from tagora.core import audit, exports
from tagora.core.auth import Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.db import transaction
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.scoring import pipeline, propensity, trainers
from tagora.scoring.clusters import cluster_name
from tagora.scoring.errors import ScoringErrorCode
from tagora.scoring.model_tags import CHURN_HORIZON_DAYS, MODEL_TAGS, tag_rows
from tagora.scoring.models import ModelRun
from tagora.scoring.schemas import (
    EvaluationReport,
    ModelRunPublic,
    PurchaseMetrics,
    ScoreReport,
    ScorerMetrics,
    SurvivalMetrics,
)
from tagora.tags import facade as tags

EXPORT_COLUMNS = (
    "customer_key", "churn_probability", "expected_purchases", "p_alive", "clv", "rfm_segment",
    "churn_risk", "churn_reasons", "lifecycle_stage", "p_purchase_30d", "expected_next_purchase",
)  # fmt: skip


MIN_CUTOFF = date(1900, 1, 1)


def _not_enough(exc: Exception) -> AppError:
    return AppError(ScoringErrorCode.NOT_ENOUGH_DATA, str(exc), 422, {"field": "cutoff"})


def check_cutoff(cutoff: date | None) -> None:
    """A cutoff is a day whose data may exist: one after today (9999-12-31) or before 1900 (0001-01-01,
    whose look-back windows leave the calendar) is refused, not a 500."""
    today = utcnow().date()
    if cutoff is not None and not MIN_CUTOFF <= cutoff <= today:
        message = f"cutoff: {cutoff.isoformat()} is not between {MIN_CUTOFF.isoformat()} and today, {today}"
        raise AppError(ScoringErrorCode.BAD_PARAMETER, message, 422, {"field": "cutoff"})


def data_window(warehouse: BaseBackend, cutoff: date | None) -> tuple[date | None, date]:
    """(first order day, cutoff); the cutoff defaults to the latest order day."""
    check_cutoff(cutoff)
    orders = warehouse.table("orders")
    row = (
        orders.aggregate(first=orders.ordered_at.min(), last=orders.ordered_at.max())
        .to_pyarrow()
        .to_pylist()[0]
    )
    if row["last"] is None:
        raise AppError(ScoringErrorCode.NOT_ENOUGH_DATA, "there are no orders to learn from", 422, {})
    return row["first"].date(), cutoff or row["last"].date()


def _record_run(
    stores: Stores, actor: Principal, name: str, window: tuple[date | None, date], horizon: int,
    params: dict[str, Any], metrics: dict[str, Any], action: str = "model.train",
) -> ModelRunPublic:  # fmt: skip
    with transaction(stores.sessions) as session:
        last = session.scalar(select(func.max(ModelRun.version)).where(ModelRun.name == name)) or 0
        run = ModelRun(
            name=name, version=last + 1, parameters=_jsonable(params), data_start=window[0],
            data_end=window[1], horizon_days=horizon, metrics=_jsonable(metrics), actor=actor.username,
            trained_at=utcnow(),
        )  # fmt: skip
        session.add(run)
        session.flush()
        audit.record(session, actor.username, action, "model_run", run.id, name=name, version=run.version)
        return ModelRunPublic.model_validate(run)


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    """Through JSON and back, so numpy numbers and NaN become plain JSON values (NaN -> null)."""
    text = json.dumps(value, default=float).replace("NaN", "null").replace("Infinity", "null")
    return dict(json.loads(text))


def _category_skus(stores: Stores, target: str | None) -> list[str]:
    if not target:
        message = "propensity needs a target: a product category such as 服装"
        raise AppError(ScoringErrorCode.BAD_PARAMETER, message, 422, {"field": "target"})
    with stores.sessions() as session:
        skus = profiles.skus_in_category(session, target)
    if not skus:
        raise AppError(ScoringErrorCode.BAD_PARAMETER, f"no products in category {target!r}", 422,
                       {"field": "target"})  # fmt: skip
    return skus


def _train_propensity(
    stores: Stores, cutoff: date, horizon: int, target: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    skus = _category_skus(stores, target)
    backtest_cutoff = cutoff - timedelta(days=horizon)
    metrics = propensity.evaluate(stores.warehouse, skus, backtest_cutoff, horizon)
    params = {**propensity.PropensityModel().get_params(), "target": target, "skus": len(skus)}
    return params, {"backtest_cutoff": backtest_cutoff.isoformat(), **metrics}


def train_model(
    stores: Stores, actor: Principal, name: str, cutoff: date | None = None, horizon_days: int = 90,
    target: str | None = None,
) -> ModelRunPublic:  # fmt: skip
    """Fit on data up to ``cutoff``, backtest on the horizon before it, record the run.

    ``propensity`` needs a ``target`` category and is recorded as ``propensity:<category>``.
    """
    if name == "propensity":
        window = data_window(stores.warehouse, cutoff)
        try:
            params, metrics = _train_propensity(stores, window[1], horizon_days, target)
        except ValueError as exc:
            raise _not_enough(exc) from exc
        return _record_run(stores, actor, f"propensity:{target}", window, horizon_days, params, metrics)
    if name not in trainers.TRAINERS:
        choices = ", ".join([*trainers.TRAINERS, "propensity"])
        raise AppError(ScoringErrorCode.UNKNOWN_MODEL, f"unknown model {name!r}; choose from {choices}", 404,
                       {"field": "name"})  # fmt: skip
    window = data_window(stores.warehouse, cutoff)
    try:
        params, metrics = trainers.TRAINERS[name](stores.warehouse, window[1], horizon_days)
    except ValueError as exc:
        raise _not_enough(exc) from exc
    return _record_run(stores, actor, name, window, horizon_days, params, metrics)


def evaluate_models(stores: Stores, cutoff: date, horizon_days: int) -> EvaluationReport:
    """Train on data up to ``cutoff`` and judge on the ``horizon_days`` after it (a read, nothing stored)."""
    check_cutoff(cutoff)
    try:
        result = pipeline.evaluate(stores.warehouse, cutoff, horizon_days)
    except ValueError as exc:
        raise _not_enough(exc) from exc
    lift = result.lift.reset_index().astype(float).to_dict(orient="records")
    return EvaluationReport(
        cutoff=cutoff,
        horizon_days=horizon_days,
        customers=int(result.details["customers"]),
        training_rows=int(result.details["training_rows"]),
        churn=[ScorerMetrics(scorer=str(k), **v) for k, v in result.churn.to_dict(orient="index").items()],
        purchases=[
            PurchaseMetrics(predictor=str(k), **v) for k, v in result.clv.to_dict(orient="index").items()
        ],
        lift=[{str(k): float(v) for k, v in row.items()} for row in lift],
        importance=result.importance,
        survival=[SurvivalMetrics(scorer=k, concordance=v) for k, v in result.survival.items()],
    )


def list_runs(stores: Stores, name: str | None = None) -> list[ModelRunPublic]:
    with stores.sessions() as session:
        query = select(ModelRun).order_by(ModelRun.name, ModelRun.version.desc())
        if name:
            query = query.where(ModelRun.name == name)
        return [ModelRunPublic.model_validate(r) for r in session.scalars(query)]


def show_run(stores: Stores, name: str, version: int | None = None) -> ModelRunPublic:
    with stores.sessions() as session:
        query = select(ModelRun).where(ModelRun.name == name).order_by(ModelRun.version.desc())
        if version is not None:
            query = query.where(ModelRun.version == version)
        run = session.scalars(query.limit(1)).first()
        if run is None:
            what = f"{name!r} version {version}" if version is not None else f"{name!r}"
            raise AppError(ScoringErrorCode.UNKNOWN_MODEL, f"no run of model {what}", 404, {"field": "name"})
        return ModelRunPublic.model_validate(run)


def compute_scores(stores: Stores, cutoff: date, horizon_days: int) -> pd.DataFrame:
    """Every customer with a purchase up to ``cutoff``: models trained and applied on data up to it."""
    check_cutoff(cutoff)
    try:
        churn = pipeline.train_churn(stores.warehouse, cutoff, horizon_days)
        value = pipeline.fit_value_models(stores.warehouse, cutoff)
        survival = pipeline.train_survival(stores.warehouse, cutoff, horizon_days)
    except ValueError as exc:
        raise _not_enough(exc) from exc
    scores = pipeline.score_customers(stores.warehouse, cutoff, horizon_days, churn, value, survival=survival)
    with stores.sessions() as session:
        keys = profiles.customer_keys(session, scores.index.tolist())
    scores.insert(0, "customer_key", scores.index.map(keys))
    return scores[scores["customer_key"].notna()]


def propensity_scores(stores: Stores, target: str, cutoff: date, horizon_days: int) -> pd.DataFrame:
    """Every customer with a purchase up to ``cutoff``: P(buys in ``target`` within the horizon) and its
    decile (1 = the tenth most likely to respond), best first — the list to pick an offer's audience from."""
    check_cutoff(cutoff)
    skus = _category_skus(stores, target)
    try:
        model = propensity.train(stores.warehouse, skus, cutoff, horizon_days)
    except ValueError as exc:
        raise _not_enough(exc) from exc
    X = propensity.propensity_frame(stores.warehouse, skus, cutoff)
    score = model.predict_proba(X)[:, 1]
    frame = pd.DataFrame({"score": score.round(6), "decile": propensity.deciles(score)}, index=X.index)
    with stores.sessions() as session:
        keys = profiles.customer_keys(session, X.index.tolist())
    frame.insert(0, "customer_key", frame.index.map(keys))
    return frame[frame["customer_key"].notna()].sort_values("score", ascending=False, kind="stable")


SCORE_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def write_scores(scores: pd.DataFrame, output: Path, columns: tuple[str, ...] = EXPORT_COLUMNS) -> None:
    """CSV, Excel or JSON Lines (chosen by the file's extension) through the one export writer."""
    fmt = SCORE_FORMATS.get(output.suffix.lower())
    if fmt is None:
        message = f"output {output.name!r} must end in .csv, .xlsx or .jsonl"
        raise AppError(ScoringErrorCode.BAD_OUTPUT, message, 422, {"field": "output"})
    frame = scores.loc[:, list(columns)].round(6)
    with output.open("wb") as fh, exports.open_writer(fh, exports.FileFormat(fmt), columns) as writer:
        for row in frame.itertuples(index=False, name=None):
            writer.write(row)


def export_propensity(
    stores: Stores, actor: Principal, target: str, cutoff: date, horizon_days: int, output: Path
) -> int:
    """``propensity_scores`` written to ``output`` (CSV, Excel or JSON Lines), audited; returns the rows."""
    if output.suffix.lower() not in SCORE_FORMATS:
        write_scores(pd.DataFrame(columns=["customer_key", "score", "decile"]), output)  # the clear error
    frame = propensity_scores(stores, target, cutoff, horizon_days)
    write_scores(frame, output, ("customer_key", "score", "decile"))
    with transaction(stores.sessions) as session:
        audit.record(session, actor.username, "propensity.export", "model", target, rows=len(frame))
    return len(frame)


def score_customers(
    stores: Stores, actor: Principal, cutoff: date, horizon_days: int, output: Path | None = None
) -> ScoreReport:
    if output is not None and output.suffix.lower() not in SCORE_FORMATS:
        write_scores(pd.DataFrame(columns=list(EXPORT_COLUMNS)), output)  # raises the clear error
    window = data_window(stores.warehouse, cutoff)
    scores = compute_scores(stores, window[1], horizon_days)
    if output is not None:
        write_scores(scores, output)
        with transaction(stores.sessions) as session:
            audit.record(session, actor.username, "scores.export", "model", "scores", rows=len(scores))
    metrics = {
        "customers": len(scores),
        "segments": {str(k): int(v) for k, v in scores["rfm_segment"].value_counts().items()},
        "risk": {str(k): int(v) for k, v in scores["churn_risk"].value_counts().items()},
        "expected_purchases_total": float(scores["expected_purchases"].sum()),
        "clv_total": float(scores["clv"].sum()),
    }
    run = _record_run(stores, actor, "scores", window, horizon_days, {"output": str(output or "")}, metrics)
    return ScoreReport(run=run, customers=len(scores), output=str(output) if output else None)


def publish_model_tags(stores: Stores, actor: Principal, cutoff: date | None = None) -> ScoreReport:
    """Score every customer as of ``cutoff`` and publish the results as model tags (one run recorded).

    The first publication installs the model tags in the catalogue, which takes the permission to approve
    and publish tags; later ones only need ``models:train``.
    """
    window = data_window(stores.warehouse, cutoff)
    may_install = actor.can(Permission.TAGS_APPROVE) and actor.can(Permission.TAGS_PUBLISH)
    if may_install or not list_runs(stores, "model_tags"):
        # Adds only the codes not in the catalogue yet; refuses (403) someone who may not publish tags.
        drafts = [tags.validate_draft(t) for t in MODEL_TAGS.values()]
        tags.install_definitions(stores.sessions, actor, drafts, "scoring models")
    scores = compute_scores(stores, window[1], CHURN_HORIZON_DAYS)
    try:
        clusters, X = trainers.fit_clusters(stores.warehouse, window[1])
    except ValueError as exc:
        raise _not_enough(exc) from exc
    names = pd.Series([cluster_name(int(k)) for k in clusters.labels_], index=X.index)
    scores["behaviour_cluster"] = names.reindex(scores.index)
    rows = tag_rows(scores)
    metrics = {
        "customers": len(scores),
        "values": {code: len(r) for code, r in rows.items()},
        "clusters": clusters.describe(X, clusters.labels_),
        "silhouette": clusters.silhouettes_,
    }
    run = _record_run(stores, actor, "model_tags", window, CHURN_HORIZON_DAYS, {"tags": list(rows)}, metrics,
                      action="model.publish")  # fmt: skip
    for code, values in rows.items():
        tags.write_values(stores.warehouse, code, values, f"model:{run.name}@{run.version}")
    stores.touch()  # segments read the new model tags at once
    return ScoreReport(run=run, customers=len(scores), published_rows=sum(len(r) for r in rows.values()))


def publish_if_due(stores: Stores, actor: Principal, every: timedelta) -> tuple[str, str]:
    """The worker's job: retrain and republish the model tags when the last publication is older than
    ``every``; returns (status, detail) — ``skipped`` when not due or when there are no orders yet."""
    last = list_runs(stores, "model_tags")
    if last and utcnow() - last[0].trained_at < every:
        return "skipped", f"not due (model_tags v{last[0].version} at {last[0].trained_at:%Y-%m-%d %H:%M})"
    try:
        report = publish_model_tags(stores, actor)
    except AppError as exc:
        if exc.code != ScoringErrorCode.NOT_ENOUGH_DATA:
            raise
        return "skipped", exc.message
    detail = f"model_tags v{report.run.version}: {report.customers} customers, {report.published_rows} values"
    return "succeeded", detail
