"""Buy again (replenishment): what this customer buys repeatedly, recent purchases weighing most."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from tagora.recs.base import Explanation, Filters, Recommendation, Recommender, day_of, names_of
from tagora.recs.interactions import DAY_S, Interactions


class BuyAgain(Recommender):
    """``score(u, i) = sum over u's purchases of i of 2 ** (-age / half_life)``, repeats rewarded."""

    label: ClassVar[str] = "buy_again"
    customer_rows: ClassVar[tuple[str, ...]] = ("scores_", "counts_", "last_bought_")

    def __init__(self, half_life_days: float = 60.0, repeat_bonus: float = 1.0) -> None:
        self.half_life_days = half_life_days
        self.repeat_bonus = repeat_bonus

    def _fit(self, X: Interactions) -> None:
        age = np.maximum(X.as_of - X.purchase_at, 0.0) / DAY_S
        decay = np.exp2(-age / self.half_life_days)
        recency = sp.csr_matrix((decay, (X.purchase_rows, X.purchase_cols)), shape=X.shape)
        counts = sp.csr_matrix((np.ones(len(decay)), (X.purchase_rows, X.purchase_cols)), shape=X.shape)
        recency.sum_duplicates()
        counts.sum_duplicates()
        # An item bought several times is a habit; one bought once may have been a one-off.
        repeats = counts.copy()
        repeats.data = 1.0 + self.repeat_bonus * np.log(repeats.data)
        self.scores_ = sp.csr_matrix(recency.multiply(repeats), dtype=np.float32)
        self.counts_ = sp.csr_matrix(counts, dtype=np.float32)
        self.last_bought_ = _latest(X)

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 1:  # serving: one customer's few bought items, without a sparse slice
            out = np.zeros((1, self.scores_.shape[1]), dtype=np.float32)
            start, end = self.scores_.indptr[rows[0]], self.scores_.indptr[rows[0] + 1]
            out[0, self.scores_.indices[start:end]] = self.scores_.data[start:end]
            return out
        return np.asarray(self.scores_[rows].toarray())

    def recommend(self, uid: int, n: int = 10, filters: Filters | None = None) -> list[Recommendation]:
        # Buying again is the point here, so already-bought items stay unless a caller says otherwise.
        return super().recommend(uid, n, filters or Filters(exclude_seen=False))

    def explain_col(self, uid: int, col: int, score: float) -> Explanation:
        X = self.interactions_
        row = X.row(uid)
        times = int(entry(self.counts_, row, col)) if row is not None else 0
        if row is None or times == 0:
            return super().explain_col(uid, col, score)
        last = day_of(entry(self.last_bought_, row, col))
        what = names_of(X, [col])
        return Explanation(f"you bought {what} {times} times, last on {last}", (str(X.items.skus[col]),))


def entry(matrix: sp.csr_matrix, row: int, col: int) -> float:
    """``matrix[row, col]`` read from the arrays (scipy's scalar indexing costs ~50 us a call)."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    cols = matrix.indices[start:end]
    at = np.flatnonzero(cols == col)
    return float(matrix.data[start + at[0]]) if len(at) else 0.0


def _latest(X: Interactions) -> sp.csr_matrix:
    """Seconds of each (customer, item)'s latest purchase."""
    if not len(X.purchase_at):
        return sp.csr_matrix(X.shape, dtype=np.float64)
    keys = X.purchase_rows.astype(np.int64) * X.shape[1] + X.purchase_cols
    order = np.lexsort((X.purchase_at, keys))
    last = np.r_[keys[order][1:] != keys[order][:-1], True]
    pick = order[last]
    return sp.csr_matrix((X.purchase_at[pick], (X.purchase_rows[pick], X.purchase_cols[pick])), shape=X.shape)
