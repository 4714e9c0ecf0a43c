"""Popularity: the cold-start answer. Global (distinct customers) or trending (time-decayed weight)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tagora.recs.base import Explanation, Recommender
from tagora.recs.interactions import DAY_S, Interactions


class Popularity(Recommender):
    """Items ranked by how many customers chose them; with ``half_life_days``, recent choices count more."""

    label: ClassVar[str] = "popularity"

    def __init__(self, half_life_days: float | None = None) -> None:
        self.half_life_days = half_life_days

    def _fit(self, X: Interactions) -> None:
        if self.half_life_days and len(X.purchase_at):
            # Trending: each purchase by its age; customers who only browse still count once.
            decay = np.exp2(-np.maximum(X.as_of - X.purchase_at, 0.0) / DAY_S / self.half_life_days)
            trend = np.bincount(X.purchase_cols, weights=decay, minlength=X.shape[1])
            self.scores_ = (trend / max(trend.max(), 1e-12) + 1e-3 * self.popularity_).astype(np.float32)
        else:
            self.scores_ = self.popularity_.astype(np.float32)

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(rows), len(self.scores_)))

    def cold_scores(self) -> np.ndarray:
        return np.asarray(self.scores_, dtype=np.float32)

    def explain_col(self, uid: int, col: int, score: float) -> Explanation:
        when = "trending now" if self.half_life_days else "popular with customers"
        return Explanation(when)
