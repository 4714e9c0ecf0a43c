"""ItemCF: items chosen by the same customers, cosine similarity with a popularity penalty."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from tagora.recs.base import Recommender
from tagora.recs.interactions import Interactions
from tagora.recs.neighbours import drop_diagonal, keep_top_k


class ItemCF(Recommender):
    """``score(u, j) = sum_i x_ui * sim(i, j)``; ``sim`` is shrunk cosine over ``popularity(j) ** penalty``.

    The penalty stops best-sellers from being everybody's neighbour; ``neighbours`` keeps each item's
    strongest links only, which bounds memory and serving time.
    """

    label: ClassVar[str] = "itemcf"

    def __init__(self, neighbours: int = 100, popularity_penalty: float = 0.0, shrink: float = 20.0) -> None:
        self.neighbours = neighbours
        self.popularity_penalty = popularity_penalty
        self.shrink = shrink

    def _fit(self, X: Interactions) -> None:
        columns = sp.csc_matrix(X.matrix, dtype=np.float32)
        sims = drop_diagonal((columns.T @ columns).tocsr())
        # Cosine shrunk towards 0 when two items share few customers (two one-off items are not "twins").
        norms = np.sqrt(np.asarray(columns.multiply(columns).sum(axis=0)).ravel())
        rows = np.repeat(np.arange(sims.shape[0]), np.diff(sims.indptr))
        sims.data = (sims.data / (norms[rows] * norms[sims.indices] + self.shrink)).astype(np.float32)
        if self.popularity_penalty:
            penalty = np.power(np.maximum(self.popularity_, 1.0), -self.popularity_penalty)
            sims = sp.csr_matrix(sims @ sp.diags(penalty.astype(np.float32)))
        self.similarity_ = keep_top_k(sims, self.neighbours).astype(np.float32)

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray((self.interactions_.matrix[rows] @ self.similarity_).toarray())
