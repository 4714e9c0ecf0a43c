"""From warehouse to scores: churn training sets, CLV fits, per-customer scores and the honest evaluation.

Everything takes ``cutoff`` (last observed day) and ``horizon_days`` as parameters. Training uses features
at earlier cutoffs whose labels end by ``cutoff``; nothing reads a fact after ``cutoff`` except
``evaluate``, which compares the scores with what happened in the ``horizon_days`` after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from ibis.backends import BaseBackend
from numpy.typing import NDArray
from scipy.stats import spearmanr

from tagora.scoring import features
from tagora.scoring._base import FloatArray
from tagora.scoring.bgnbd import BetaGeoModel
from tagora.scoring.churn import (
    ChurnModel,
    binary_metrics,
    calibration_table,
    importance,
    lift_table,
    risk_level,
)
from tagora.scoring.clusters import lifecycle_stage
from tagora.scoring.clv import customer_lifetime_value
from tagora.scoring.gamma_gamma import GammaGammaModel
from tagora.scoring.rfm import RFMScorer, labels_zh
from tagora.scoring.summary import summarize_purchases
from tagora.scoring.survival import NextPurchaseModel, concordance, outcomes


def churn_labels(warehouse: BaseBackend, uids: pd.Index, cutoff: date, horizon_days: int) -> pd.Series:
    """1 when the customer made no purchase in the ``horizon_days`` after ``cutoff``."""
    bought = features.purchase_days_between(warehouse, cutoff, cutoff + timedelta(days=horizon_days))
    return pd.Series((~uids.isin(bought.index)).astype(np.int64), index=uids, name="churned")


SNAPSHOTS = 3


def training_set(
    warehouse: BaseBackend, cutoff: date, horizon_days: int, snapshots: int = SNAPSHOTS, step_days: int = 30
) -> tuple[pd.DataFrame, pd.Series]:
    """Features at ``cutoff - horizon - k*step`` (k < snapshots) with the labels that follow, stacked.

    Several snapshots give the booster more examples; every label window ends by ``cutoff``.
    """
    frames, labels = [], []
    for k in range(snapshots):
        at = cutoff - timedelta(days=horizon_days + k * step_days)
        X = features.behaviour_features(warehouse, at)
        if len(X):
            frames.append(X)
            labels.append(churn_labels(warehouse, X.index, at, horizon_days))
    if not frames:
        raise ValueError(f"no purchases before {cutoff - timedelta(days=horizon_days)} to train on")
    return pd.concat(frames), pd.concat(labels)


def train_churn(
    warehouse: BaseBackend, cutoff: date, horizon_days: int, random_state: int = 0, snapshots: int = SNAPSHOTS
) -> ChurnModel:
    X, y = training_set(warehouse, cutoff, horizon_days, snapshots=snapshots)
    if y.nunique() < 2:
        raise ValueError("the training window has only churned or only retained customers")
    return ChurnModel(random_state=random_state).fit(X, y)


def survival_set(
    warehouse: BaseBackend, cutoff: date, horizon_days: int, snapshots: int = SNAPSHOTS, step_days: int = 30
) -> tuple[pd.DataFrame, NDArray[np.void]]:
    """Features at earlier cutoffs with the wait to the next purchase, censored at ``horizon_days``."""
    frames, waits = [], []
    for k in range(snapshots):
        at = cutoff - timedelta(days=horizon_days + k * step_days)
        X = features.behaviour_features(warehouse, at)
        if len(X):
            frames.append(X)
            waits.append(next_purchase(warehouse, X.index, at, horizon_days))
    if not frames:
        raise ValueError(f"no purchases before {cutoff - timedelta(days=horizon_days)} to train on")
    wait = pd.concat(waits)
    return pd.concat(frames), outcomes(wait.notna(), wait.fillna(float(horizon_days)).clip(lower=1e-3))


def next_purchase(warehouse: BaseBackend, uids: pd.Index, cutoff: date, horizon_days: int) -> pd.Series:
    """Days to each customer's next purchase within the horizon after ``cutoff`` (NaN: none seen)."""
    first = features.first_purchase_after(warehouse, cutoff, cutoff + timedelta(days=horizon_days))
    return first.reindex(uids)


def train_survival(warehouse: BaseBackend, cutoff: date, horizon_days: int) -> NextPurchaseModel:
    X, y = survival_set(warehouse, cutoff, horizon_days)
    return NextPurchaseModel().fit(X, y)


@dataclass
class ValueModels:
    summary: pd.DataFrame
    transactions: BetaGeoModel
    spend: GammaGammaModel


def fit_value_models(warehouse: BaseBackend, cutoff: date) -> ValueModels:
    """BG/NBD and Gamma-Gamma in days; identical (x, t_x, T) rows are fitted once with a weight."""
    summary = summarize_purchases(features.purchases(warehouse, cutoff), cutoff, customer="uid")
    keys = ["frequency", "recency", "T"]
    grouped = summary.groupby(keys, as_index=False).size()
    transactions = BetaGeoModel().fit(grouped["frequency"], grouped["recency"], grouped["T"], grouped["size"])
    spend = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    return ValueModels(summary, transactions, spend)


def score_customers(
    warehouse: BaseBackend,
    cutoff: date,
    horizon_days: int,
    churn: ChurnModel,
    value: ValueModels,
    annual_discount_rate: float = 0.1,
    reasons: bool = True,
    survival: NextPurchaseModel | None = None,
) -> pd.DataFrame:
    """One row per customer with a purchase up to ``cutoff``, indexed by uid."""
    X = features.behaviour_features(warehouse, cutoff)
    s = value.summary.reindex(X.index)
    args = (s["frequency"], s["recency"], s["T"])
    probability = churn.churn_probability(X)
    rfm = RFMScorer().fit(X["recency_days"], X["purchase_days"], X["monetary"])
    scores = rfm.transform(X["recency_days"], X["purchase_days"], X["monetary"])
    segments = rfm.segments(scores)

    def clv(days: int) -> FloatArray:
        return customer_lifetime_value(
            value.transactions, value.spend, *args, s["monetary_value"], horizon_days=days,
            annual_discount_rate=annual_discount_rate,
        )  # fmt: skip

    out = pd.DataFrame(
        {
            "churn_probability": probability,
            "churn_risk": risk_level(probability),
            "expected_purchases": value.transactions.predict_purchases(horizon_days, *args),
            "p_alive": value.transactions.predict_proba_alive(*args),
            "expected_next_purchase": next_purchase_dates(value.transactions, cutoff, *args),
            "clv": clv(horizon_days),
            "clv_12m": clv(365),
            "rfm_score": scores.sum(axis=1),
            "rfm_segment": labels_zh(segments),
            "rfm_segment_code": [str(seg) for seg in segments],
            "lifecycle_stage": lifecycle_stage(X, probability),
        },
        index=X.index,
    )
    if survival is not None:
        out["p_purchase_30d"] = survival.predict_purchase_within(X, 30)
    if reasons:
        out["churn_reasons"] = [",".join(r) for r in churn.reasons(X)]
    return out


def next_purchase_dates(
    transactions: BetaGeoModel, cutoff: date, frequency: pd.Series, recency: pd.Series, T: pd.Series
) -> list[str]:
    """The day by which a customer still alive has bought again with even odds (ISO dates; read with
    p_alive: BG/NBD says nothing about when someone who has left comes back)."""
    wait = transactions.predict_next_purchase(frequency, recency, T)
    start = pd.Timestamp(cutoff)
    return [(start + pd.Timedelta(days=int(np.ceil(days)))).date().isoformat() for days in wait]


@dataclass
class Evaluation:
    churn: pd.DataFrame  # one row per scorer: auc, pr_auc
    lift: pd.DataFrame
    calibration: pd.DataFrame  # predicted vs observed churn rate per probability tenth
    importance: dict[str, float]
    clv: pd.DataFrame  # one row per predictor: mae, spearman
    survival: dict[str, float] = field(default_factory=dict)  # concordance per scorer
    details: dict[str, Any] = field(default_factory=dict)


def evaluate(
    warehouse: BaseBackend, cutoff: date, horizon_days: int, random_state: int = 0, with_clv: bool = True
) -> Evaluation:
    """Train with data up to ``cutoff``, then compare with the ``horizon_days`` after it."""
    churn = train_churn(warehouse, cutoff, horizon_days, random_state)
    X = features.behaviour_features(warehouse, cutoff)
    y = churn_labels(warehouse, X.index, cutoff, horizon_days)
    probability = churn.churn_probability(X)
    rfm = RFMScorer().fit(X["recency_days"], X["purchase_days"], X["monetary"])
    rfm_score = rfm.transform(X["recency_days"], X["purchase_days"], X["monetary"]).sum(axis=1)
    scorers = {"model": probability, "recency": X["recency_days"], "rfm_score": -rfm_score}
    table = pd.DataFrame({name: vars(binary_metrics(y, s)) for name, s in scorers.items()}).T
    return Evaluation(
        churn=table,
        lift=lift_table(y, probability),
        calibration=calibration_table(y, probability),
        importance=importance(churn, X, y, random_state),
        clv=evaluate_purchases(warehouse, cutoff, horizon_days) if with_clv else pd.DataFrame(),
        survival=evaluate_survival(warehouse, cutoff, horizon_days, X),
        details={"customers": len(X), "training_rows": churn.n_training_rows_},
    )


def evaluate_purchases(warehouse: BaseBackend, cutoff: date, horizon_days: int) -> pd.DataFrame:
    """BG/NBD's expected purchase days vs the actual ones, against "same as the previous period"."""
    value = fit_value_models(warehouse, cutoff)
    s = value.summary
    predicted = value.transactions.predict_purchases(horizon_days, s["frequency"], s["recency"], s["T"])
    after = cutoff + timedelta(days=horizon_days)
    actual = features.purchase_days_between(warehouse, cutoff, after).reindex(s.index, fill_value=0.0)
    before = cutoff - timedelta(days=horizon_days)
    previous = features.purchase_days_between(warehouse, before, cutoff).reindex(s.index, fill_value=0.0)
    rows = {}
    for name, guess in {"bgnbd": predicted, "previous_period": previous.to_numpy()}.items():
        rows[name] = {
            "mae": float(np.mean(np.abs(guess - actual.to_numpy()))),
            "spearman": float(spearmanr(guess, actual.to_numpy()).statistic),
            "predicted_total": float(np.sum(guess)),
            "actual_total": float(actual.sum()),
        }
    return pd.DataFrame(rows).T


def evaluate_survival(
    warehouse: BaseBackend, cutoff: date, horizon_days: int, X: pd.DataFrame
) -> dict[str, float]:
    """Concordance of the time-to-next-purchase model with the waits after ``cutoff``, vs recency alone."""
    model = train_survival(warehouse, cutoff, horizon_days)
    wait = next_purchase(warehouse, X.index, cutoff, horizon_days)
    y = outcomes(wait.notna(), wait.fillna(float(horizon_days)).clip(lower=1e-3))
    return {
        "model": concordance(y, model.predict(X)),
        "recency": concordance(y, -X["recency_days"].to_numpy()),
    }
