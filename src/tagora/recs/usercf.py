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
        if len(rows) == 1:
            return self._score_one(int(rows[0]))[None, :]
        sims = sp.csr_matrix(self.user_vectors_[rows] @ self._others)
        own = sp.csr_matrix((np.ones(len(rows)), (np.arange(len(rows)), rows)), shape=sims.shape)
        sims = sp.csr_matrix(sims - sims.multiply(own))  # a customer is not their own neighbour
        sims.eliminate_zeros()
        near = keep_top_k(sims, self.neighbours)
        return np.asarray((near @ self.interactions_.matrix).toarray())

    def _score_one(self, row: int) -> np.ndarray:
        # Serving asks for one customer at a time: the same sums on the raw arrays, without the
        # half-dozen intermediate sparse matrices the batch path builds.
        v = self.user_vectors_
        start, end = v.indptr[row], v.indptr[row + 1]
        others = self._others
        sims = sp.csr_matrix(
            (v.data[start:end], v.indices[start:end], [0, end - start]), shape=(1, v.shape[1])
        )
        found = sims @ others
        users, weights = found.indices, found.data
        keep = (users != row) & (weights != 0)
        users, weights = users[keep], weights[keep]
        if len(users) > self.neighbours:
            # Only the entries at or above the k-th weight are sorted; ties go as in ``keep_top_k``.
            cut = -np.partition(-weights, self.neighbours - 1)[self.neighbours - 1]
            candidates = np.flatnonzero(weights >= cut)
            top = candidates[np.lexsort((users[candidates], -weights[candidates]))[: self.neighbours]]
            users, weights = users[top], weights[top]
        near = sp.csr_matrix((weights, users, [0, len(users)]), shape=(1, others.shape[1]))
        return np.asarray((near @ self.interactions_.matrix).toarray()[0], dtype=np.float32)
