"""Propensity to buy in a product category: who is most likely to respond to an offer there.

The label is "bought any of the category's SKUs in the horizon after the cutoff"; the features are the
behaviour features plus the customer's own history in the category. The classifier is the same
calibrated gradient boosting as churn. Scores come with deciles (1 = most likely) and a lift table.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tagora.profiles.facade import PURCHASE
from tagora.scoring import features
from tagora.scoring.churn import ChurnModel, binary_metrics, lift_table


class PropensityModel(ChurnModel):
    """``fit(X, y)`` with y = 1 when the customer bought in the category within the horizon."""


def category_features(warehouse: BaseBackend, skus: list[str], cutoff: date) -> pd.DataFrame:
    """Per uid, the customer's purchases in the category up to ``cutoff``: lines, spend, days since."""
    lines = warehouse.table("order_lines")
    end = ibis.literal(features.day_end(cutoff))
    mine = lines.filter((lines.kind == PURCHASE) & lines.sku.isin(skus) & (lines.ordered_at < end))
    age = (end.epoch_seconds() - mine.ordered_at.epoch_seconds()) / features.DAY_SECONDS
    frame = mine.group_by("uid").aggregate(
        category_lines=mine.count(),
        category_spend=mine.amount.sum().cast("float64"),  # decimal: exact in any row order
        category_recency_days=age.min(),
    )
    return frame.to_pandas().set_index("uid").astype(np.float64)


def category_buyers(warehouse: BaseBackend, skus: list[str], after: date, until: date) -> pd.Index:
    lines = warehouse.table("order_lines")
    window = lines.filter(
        (lines.kind == PURCHASE)
        & lines.sku.isin(skus)
        & (lines.ordered_at >= ibis.literal(features.day_end(after)))
        & (lines.ordered_at < ibis.literal(features.day_end(until)))
    )
    return pd.Index(window.select("uid").distinct().to_pandas()["uid"])


def propensity_frame(warehouse: BaseBackend, skus: list[str], cutoff: date) -> pd.DataFrame:
    X = features.behaviour_features(warehouse, cutoff)
    own = category_features(warehouse, skus, cutoff).reindex(X.index)
    own["category_lines"] = own["category_lines"].fillna(0.0)
    own["category_spend"] = own["category_spend"].fillna(0.0)
    # Never bought there: "a very long time ago" keeps the column numeric and ordered.
    own["category_recency_days"] = own["category_recency_days"].fillna(10 * 365.0)
    return X.join(own)


def labels(warehouse: BaseBackend, skus: list[str], uids: pd.Index, cutoff: date, horizon: int) -> pd.Series:
    bought = category_buyers(warehouse, skus, cutoff, cutoff + timedelta(days=horizon))
    return pd.Series(uids.isin(bought).astype(np.int64), index=uids, name="bought")


def train(
    warehouse: BaseBackend, skus: list[str], cutoff: date, horizon: int, snapshots: int = 3
) -> PropensityModel:
    """Stacked snapshots whose label windows all end by ``cutoff``, as for churn."""
    frames, ys = [], []
    for k in range(snapshots):
        at = cutoff - timedelta(days=horizon + 30 * k)
        X = propensity_frame(warehouse, skus, at)
        if len(X):
            frames.append(X)
            ys.append(labels(warehouse, skus, X.index, at, horizon))
    y = pd.concat(ys) if ys else pd.Series(dtype=np.int64)
    if y.nunique() < 2:
        raise ValueError("the training window needs both buyers and non-buyers of the category")
    return PropensityModel(min_samples_leaf=20).fit(pd.concat(frames), y)


def deciles(score: np.ndarray) -> np.ndarray:
    """1 for the top tenth of scores .. 10 for the bottom tenth."""
    order = np.argsort(-score, kind="stable")
    out = np.empty(score.size, dtype=np.int64)
    out[order] = np.arange(score.size) * 10 // max(score.size, 1) + 1
    return out


def evaluate(warehouse: BaseBackend, skus: list[str], cutoff: date, horizon: int) -> dict[str, object]:
    """Train up to ``cutoff``, judge on the horizon after it, against "bought there before" (spend)."""
    model = train(warehouse, skus, cutoff, horizon)
    X = propensity_frame(warehouse, skus, cutoff)
    y = labels(warehouse, skus, X.index, cutoff, horizon)
    score = model.predict_proba(X)[:, 1]
    baseline = X["category_spend"].to_numpy()
    return {
        "auc": {
            "model": vars(binary_metrics(y, score)),
            "past_category_spend": vars(binary_metrics(y, baseline)),
        },
        "lift": lift_table(y, score).reset_index().to_dict(orient="records"),
        "customers": len(X),
    }
