"""EASE (Steck 2019): a closed-form item-item model, ``B = I - P / diag(P)`` with ``P = (XᵀX + λI)⁻¹``."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tagora.recs.base import Recommender
from tagora.recs.interactions import Interactions

# Fitting holds three dense items x items float64 matrices (the Gram, its inverse, the weights) and
# inverts one in O(items^3): 6,000 items is ~0.9 GB and a minute; 20,000 was 10 GB and hours.
MAX_ITEMS = 6000


class EASE(Recommender):
    """Dense in the number of items: refuses catalogues above ``max_items`` rather than exhaust memory."""

    label: ClassVar[str] = "ease"

    def __init__(self, l2: float = 200.0, max_items: int = MAX_ITEMS) -> None:
        self.l2 = l2
        self.max_items = max_items

    def _fit(self, X: Interactions) -> None:
        n_items = X.shape[1]
        if n_items > self.max_items:
            raise ValueError(
                f"EASE needs a dense {n_items} x {n_items} matrix; max_items is {self.max_items}"
            )
        gram = np.asarray((X.matrix.T @ X.matrix).toarray(), dtype=np.float64)
        gram[np.diag_indices(n_items)] += self.l2
        inverse = np.linalg.inv(gram)
        weights = inverse / -np.diag(inverse)
        weights[np.diag_indices(n_items)] = 0.0
        self.weights_ = weights.astype(np.float32)

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        X = self.interactions_.matrix
        if len(rows) == 1:  # serving: the row's few items weight their rows of B directly
            start, end = X.indptr[rows[0]], X.indptr[rows[0] + 1]
            return (X.data[start:end] @ self.weights_[X.indices[start:end]])[None, :]
        return np.asarray(X[rows] @ self.weights_)
