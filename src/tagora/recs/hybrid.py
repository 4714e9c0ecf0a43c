"""Hybrids: a weighted blend of recommenders, switching for new customers, and MMR diversity."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from tagora.recs.base import Explanation, Filters, Recommendation, Recommender, item_space
from tagora.recs.interactions import Interactions

Components = tuple[tuple[str, Recommender], ...]


def _unit(scores: np.ndarray) -> np.ndarray:
    """Each row scaled to a maximum of 1, so components on different scales can be added."""
    peak = np.abs(scores).max(axis=1, keepdims=True)
    return scores / np.where(peak > 0, peak, 1.0)


class WeightedHybrid(Recommender):
    """``score = sum_k w_k * score_k / max(score_k)`` per customer; ``diversity`` > 0 re-ranks with MMR."""

    label: ClassVar[str] = "hybrid"

    def __init__(self, components: Components = (), weights: tuple[float, ...] = (), diversity: float = 0.0):
        self.components = components
        self.weights = weights
        self.diversity = diversity

    def _fit(self, X: Interactions) -> None:
        if len(self.components) != len(self.weights) or not self.components:
            raise ValueError("a weighted hybrid needs one weight per component")
        self.fitted_ = tuple((name, clone(est).fit(X)) for name, est in self.components)

    def _parts(self, rows: np.ndarray) -> list[np.ndarray]:
        return [
            w * _unit(est.score_rows(rows))
            for (_, est), w in zip(self.fitted_, self.weights, strict=True)
            if w
        ]

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.sum(self._parts(rows), axis=0)

    def parts(self) -> list[Recommender]:
        return [est for _, est in self.fitted_]

    def cold_scores(self) -> np.ndarray:
        return np.sum(
            [
                w * _unit(est.cold_scores()[None, :])[0]
                for (_, est), w in zip(self.fitted_, self.weights, strict=True)
            ],
            axis=0,
        )

    def rank(self, scores: np.ndarray, keep: np.ndarray, n: int) -> np.ndarray:
        top = super().rank(scores, keep, n if self.diversity <= 0 else 5 * n)
        return top if self.diversity <= 0 else mmr(self.interactions_, top, scores[top], n, self.diversity)

    def recommend(self, uid: int, n: int = 10, filters: Filters | None = None) -> list[Recommendation]:
        check_is_fitted(self, "interactions_")
        row = self.interactions_.row(uid)
        if row is None:
            return super().recommend(uid, n, filters)
        live = [est for (_, est), w in zip(self.fitted_, self.weights, strict=True) if w]
        parts = np.vstack([p[0] for p in self._parts(np.array([row]))])
        scores = parts.sum(axis=0)
        cols = self.rank(scores, self.allowed(uid, filters or Filters()), n)
        # The component that contributed most to an item tells why it is there.
        explainers = [live[int(np.argmax(parts[:, c]))] for c in cols.tolist()]
        return self.present(uid, cols, scores, explainers)

    def explain_col(self, uid: int, col: int, score: float) -> Explanation:
        row = self.interactions_.row(uid)
        live = [est for (_, est), w in zip(self.fitted_, self.weights, strict=True) if w]
        if row is None:
            return live[0].explain_col(uid, col, score)
        parts = [p[0, col] for p in self._parts(np.array([row]))]
        return live[int(np.argmax(parts))].explain_col(uid, col, score)


class SwitchingHybrid(Recommender):
    """New customers (fewer than ``min_history`` items) get ``cold``; established ones get ``established``."""

    label: ClassVar[str] = "switching"
    customer_rows: ClassVar[tuple[str, ...]] = ("history_size_",)

    def __init__(
        self, established: Recommender | None = None, cold: Recommender | None = None, min_history: int = 1
    ):
        self.established = established
        self.cold = cold
        self.min_history = min_history

    def _fit(self, X: Interactions) -> None:
        if self.established is None or self.cold is None:
            raise ValueError("a switching hybrid needs an established and a cold-start recommender")
        self.established_ = clone(self.established).fit(X)
        self.cold_ = clone(self.cold).fit(X)
        self.history_size_ = np.diff(X.matrix.indptr)

    def parts(self) -> list[Recommender]:
        return [self.established_, self.cold_]

    def _which(self, uid: int) -> Recommender:
        row = self.interactions_.row(uid)
        new = row is None or self.history_size_[row] < self.min_history
        return self.cold_ if new else self.established_

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        new = self.history_size_[rows] < self.min_history
        out = self.established_.score_rows(rows)
        if new.any():
            out[new] = self.cold_.score_rows(rows[new])
        return out

    def cold_scores(self) -> np.ndarray:
        return self.cold_.cold_scores()

    def rank(self, scores: np.ndarray, keep: np.ndarray, n: int) -> np.ndarray:
        return self.established_.rank(scores, keep, n)

    def recommend(self, uid: int, n: int = 10, filters: Filters | None = None) -> list[Recommendation]:
        check_is_fitted(self, "interactions_")
        return self._which(uid).recommend(uid, n, filters)

    def explain_col(self, uid: int, col: int, score: float) -> Explanation:
        return self._which(uid).explain_col(uid, col, score)


def mmr(
    X: Interactions, candidates: np.ndarray, relevance: np.ndarray, n: int, trade_off: float
) -> np.ndarray:
    """Maximal marginal relevance: each pick maximises ``(1-d) * relevance - d * max similarity to picks``."""
    if len(candidates) <= 1:
        return candidates[:n]
    rel = relevance - relevance.min()
    rel = rel / rel.max() if rel.max() > 0 else np.ones_like(rel)
    sims = item_space(X).similarity(candidates, candidates)
    picked = [0]
    closest = sims[0].copy()
    while len(picked) < min(n, len(candidates)):
        gain = (1 - trade_off) * rel - trade_off * closest
        gain[picked] = -np.inf
        best = int(np.argmax(gain))
        picked.append(best)
        closest = np.maximum(closest, sims[best])
    return candidates[picked]
