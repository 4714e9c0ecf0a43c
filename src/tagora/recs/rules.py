"""Basket association rules: "frequently bought together" with support, confidence and lift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from tagora.recs.base import Explanation, Recommender, names_of, top_n
from tagora.recs.interactions import Interactions
from tagora.recs.neighbours import drop_diagonal, keep_top_k


@dataclass(frozen=True)
class Rule:
    antecedent: str
    consequent: str
    support: float
    confidence: float
    lift: float


class AssociationRules(Recommender):
    """Rules ``i -> j`` over baskets with at least ``min_count`` joint baskets and lift above ``min_lift``.

    A customer's score for ``j`` sums the confidence of the rules fired by the items they bought.
    """

    label: ClassVar[str] = "rules"

    def __init__(
        self, min_count: int = 3, min_confidence: float = 0.01, min_lift: float = 1.0, top: int = 100
    ):
        self.min_count = min_count
        self.min_confidence = min_confidence
        self.min_lift = min_lift
        self.top = top

    def _fit(self, X: Interactions) -> None:
        n_baskets = int(X.purchase_basket.max()) + 1 if len(X.purchase_basket) else 0
        baskets = sp.csr_matrix(
            (np.ones(len(X.purchase_cols), dtype=np.float32), (X.purchase_basket, X.purchase_cols)),
            shape=(n_baskets, X.shape[1]),
        )
        baskets.data[:] = 1.0  # duplicates in one basket count once
        baskets.sum_duplicates()
        baskets.data[:] = 1.0
        item_count = np.asarray(baskets.sum(axis=0)).ravel()
        together = drop_diagonal(sp.csr_matrix(baskets.T @ baskets))
        together.data[together.data < self.min_count] = 0
        together.eliminate_zeros()
        rows = np.repeat(np.arange(together.shape[0]), np.diff(together.indptr))
        confidence = together.data / item_count[rows]
        lift = confidence / (item_count[together.indices] / max(n_baskets, 1))
        ok = (confidence >= self.min_confidence) & (lift > self.min_lift)
        shape = together.shape
        conf = sp.csr_matrix((confidence[ok], (rows[ok], together.indices[ok])), shape=shape)
        self.confidence_ = keep_top_k(conf, self.top).astype(np.float32)
        self.lift_ = sp.csr_matrix(
            (lift[ok], (rows[ok], together.indices[ok])), shape=shape, dtype=np.float32
        )
        self.item_baskets_ = item_count.astype(np.float32)
        self.n_baskets_ = n_baskets

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        bought = sp.csr_matrix(self.interactions_.matrix[rows])
        bought.data[:] = 1.0
        return np.asarray((bought @ self.confidence_).toarray())

    def _item_similarities(self, col: int) -> np.ndarray:
        return np.asarray(self.confidence_[col].toarray()).ravel()

    def rules_for(self, sku: str, n: int = 10) -> list[Rule]:
        """The strongest rules ``sku -> j`` by confidence."""
        col = self._col(sku)
        conf = np.asarray(self.confidence_[col].toarray()).ravel()
        out = []
        for j in top_n(np.where(conf > 0, conf, -np.inf), n).tolist():
            out.append(
                Rule(
                    antecedent=sku,
                    consequent=str(self.interactions_.items.skus[j]),
                    support=float(conf[j] * self.item_baskets_[col] / max(self.n_baskets_, 1)),
                    confidence=float(conf[j]),
                    lift=float(self.lift_[col, j]),
                )
            )
        return out

    def explain_col(self, uid: int, col: int, score: float) -> Explanation:
        X = self.interactions_
        row = X.row(uid)
        if row is None:
            return super().explain_col(uid, col, score)
        history = X.history(row)
        conf = np.asarray(self.confidence_[history, col].toarray()).ravel() if len(history) else np.zeros(0)
        if not len(conf) or conf.max() <= 0:
            return super().explain_col(uid, col, score)
        best = int(history[int(np.argmax(conf))])
        lift = float(self.lift_[best, col])
        return Explanation(
            f"frequently bought together with {names_of(X, [best])} you bought (lift {lift:.1f})",
            (str(X.items.skus[best]),),
        )
