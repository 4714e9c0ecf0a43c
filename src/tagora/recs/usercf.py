"""UserCF: what the customers most like this one chose (cosine over customers, ``neighbours`` nearest)."""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from tagora.recs.base import Recommender
from tagora.recs.interactions import Interactions
from tagora.recs.neighbours import keep_top_k


class UserCF(Recommender):
    label: ClassVar[str] = "usercf"
    customer_rows: ClassVar[tuple[str, ...]] = ("user_vectors_",)

    def __init__(self, neighbours: int = 50) -> None:
        self.neighbours = neighbours

    def _fit(self, X: Interactions) -> None:
        self.__dict__.pop("_others", None)
        self.user_vectors_ = sp.csr_matrix(normalize(X.matrix, axis=1), dtype=np.float32)

    def forget_row(self, row: int) -> None:
        super().forget_row(row)
        self.__dict__.pop("_others", None)

    @cached_property
    def _others(self) -> sp.csr_matrix:
        # Derived from the learned vectors once (not saved with the model): transposing per request
        # would cost more than the product itself.
        return sp.csr_matrix(self.user_vectors_.T)

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        sims = sp.csr_matrix(self.user_vectors_[rows] @ self._others)
        own = sp.csr_matrix((np.ones(len(rows)), (np.arange(len(rows)), rows)), shape=sims.shape)
        sims = sp.csr_matrix(sims - sims.multiply(own))  # a customer is not their own neighbour
        sims.eliminate_zeros()
        near = keep_top_k(sims, self.neighbours)
        return np.asarray((near @ self.interactions_.matrix).toarray())
