"""Fit the production model on a store's behaviours; the hybrid's weights are tuned on its last month."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from tagora.recs.base import Recommender
from tagora.recs.evaluate import temporal_split
from tagora.recs.experiment import Dataset, algorithms, hybrid, tune_blend
from tagora.recs.interactions import build_interactions

HALF_LIFE_DAYS = 90.0
ALGORITHM_NAMES = (
    "hybrid",
    "popularity",
    "trending",
    "itemcf",
    "usercf",
    "als",
    "bpr",
    "ease",
    "content",
    "tags",
    "buy_again",
    "rules",
)


@dataclass(frozen=True)
class Fitted:
    model: Recommender
    meta: dict[str, Any]


def _dataset(behaviours: pd.DataFrame, catalogue: pd.DataFrame) -> Dataset:
    at = pd.to_datetime(behaviours["at"], utc=True)
    end = at.max()
    cut = end - pd.Timedelta(days=30)
    validation = temporal_split(behaviours, cut, end)
    ends = {"validation": cut.to_pydatetime(), "test": end.to_pydatetime()}
    return Dataset("store", behaviours, catalogue, validation, validation, HALF_LIFE_DAYS, False, ends)


def fit_production(behaviours: pd.DataFrame, catalogue: pd.DataFrame, algorithm: str = "hybrid") -> Fitted:
    """Fit ``algorithm`` (or the tuned hybrid) on every behaviour; raises ValueError on an unknown name."""
    if algorithm not in ALGORITHM_NAMES:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHM_NAMES)}")
    if behaviours.empty:
        raise ValueError("there are no purchases or product events to learn from yet")
    dataset = _dataset(behaviours, catalogue)
    meta: dict[str, Any] = {"algorithm": algorithm}
    if algorithm == "hybrid":
        blend = tune_blend(dataset)
        meta["blend"] = {"components": list(blend.names), "weights": list(blend.weights)}
        model = hybrid(dataset, blend)
    else:
        model = algorithms(dataset)[algorithm]()
    X = build_interactions(behaviours, catalogue, HALF_LIFE_DAYS)
    model.fit(X)
    meta.update(customers=int(X.shape[0]), items=int(X.shape[1]), interactions=int(X.matrix.nnz))
    return Fitted(model, meta)
