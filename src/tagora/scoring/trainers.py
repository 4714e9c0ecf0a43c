"""What ``tagora models train NAME`` fits per model: (parameters, metrics) to record, data up to a cutoff.

Each trainer also backtests where it can: trained as of ``cutoff - horizon``, judged on the horizon that
ends at ``cutoff``, so a run's metrics are honest out-of-time figures. Read-only; ``logic`` records runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pandas as pd
from ibis.backends import BaseBackend

from tagora.scoring import features, pipeline
from tagora.scoring.clusters import CLUSTER_FEATURES, ClusterModel
from tagora.scoring.rfm import RFMScorer, labels_zh

Trained = tuple[dict[str, Any], dict[str, Any]]


def _train_churn(warehouse: BaseBackend, cutoff: date, horizon: int) -> Trained:
    # Backtest inside the data: train as of cutoff - horizon, judge on the horizon that ends at cutoff.
    result = pipeline.evaluate(warehouse, cutoff - timedelta(days=horizon), horizon, with_clv=False)
    params = {**pipeline.ChurnModel().get_params(), "snapshots": pipeline.SNAPSHOTS}
    metrics = {
        "backtest_cutoff": (cutoff - timedelta(days=horizon)).isoformat(),
        "churn": result.churn.to_dict(orient="index"),
        "lift": result.lift.reset_index().to_dict(orient="records"),
        "calibration": result.calibration.reset_index().to_dict(orient="records"),
        "importance": dict(list(result.importance.items())[:10]),
        **result.details,
    }
    return params, metrics


def _train_clv(warehouse: BaseBackend, cutoff: date, horizon: int) -> Trained:
    value = pipeline.fit_value_models(warehouse, cutoff)
    backtest = pipeline.evaluate_purchases(warehouse, cutoff - timedelta(days=horizon), horizon)
    params = {"unit": "day", "bgnbd": value.transactions.params_, "gamma_gamma": value.spend.params_}
    metrics = {
        "bgnbd_log_likelihood": value.transactions.log_likelihood_,
        "gamma_gamma_log_likelihood": value.spend.log_likelihood_,
        "customers": len(value.summary),
        "backtest_cutoff": (cutoff - timedelta(days=horizon)).isoformat(),
        "purchases": backtest.to_dict(orient="index"),
    }
    return params, metrics


def _train_rfm(warehouse: BaseBackend, cutoff: date, horizon: int) -> Trained:
    X = features.behaviour_features(warehouse, cutoff)
    if X.empty:
        raise ValueError(f"no purchases up to {cutoff}")
    scorer = RFMScorer().fit(X["recency_days"], X["purchase_days"], X["monetary"])
    segments = scorer.segments(scorer.transform(X["recency_days"], X["purchase_days"], X["monetary"]))
    counts = pd.Series(labels_zh(segments)).value_counts()
    params = {**scorer.get_params(), "edges": {k: v.tolist() for k, v in scorer.edges_.items()}}
    return params, {"customers": len(X), "segments": {str(k): int(v) for k, v in counts.items()}}


def fit_clusters(warehouse: BaseBackend, cutoff: date) -> tuple[ClusterModel, pd.DataFrame]:
    X = features.behaviour_features(warehouse, cutoff)[list(CLUSTER_FEATURES)]
    return ClusterModel().fit(X), X


def _train_clusters(warehouse: BaseBackend, cutoff: date, horizon: int) -> Trained:
    model, X = fit_clusters(warehouse, cutoff)
    params = {**model.get_params(), "k": model.k_, "features": list(CLUSTER_FEATURES)}
    metrics = {"customers": len(X), "silhouette": model.silhouettes_,
               "clusters": model.describe(X, model.labels_)}  # fmt: skip
    return params, metrics


TRAINERS: dict[str, Callable[[BaseBackend, date, int], Trained]] = {
    "churn": _train_churn,
    "clv": _train_clv,
    "rfm": _train_rfm,
    "clusters": _train_clusters,
}
