"""ItemCF: items chosen by the same customers, smoothed cosine similarity with a popularity penalty."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from tagora.recs.base import Recommender
from tagora.recs.interactions import Interactions
from tagora.recs.neighbours import drop_diagonal, keep_top_k


class ItemCF(Recommender):
    """``score(u, j) = sum_i x_ui * sim(i, j)``, ``sim(i, j) = x_i . x_j / ((|x_i| + s)(|x_j| + s))``.

    The smoothing ``s = sqrt(shrink)`` pulls the similarity of two rarely chosen items towards 0 (two
    one-off items are not "twins"); unlike a per-pair shrinkage it factors into a column scaling, so the
    product and each item's top ``neighbours`` are computed in one multi-threaded pass (implicit's
    ``all_pairs_knn``) without ever holding the full item x item product. ``popularity_penalty`` divides
    a neighbour's similarity by its popularity to that power, so best-sellers are not everybody's
    neighbour.
    """

    label: ClassVar[str] = "itemcf"

    def __init__(
        self,
        neighbours: int = 100,
        popularity_penalty: float = 0.0,
        shrink: float = 1.0,
        num_threads: int = 0,
    ) -> None:
        self.neighbours = neighbours
        self.popularity_penalty = popularity_penalty
        self.shrink = shrink
        self.num_threads = num_threads  # 0: every core

    def _fit(self, X: Interactions) -> None:
        from implicit.nearest_neighbours import all_pairs_knn

        matrix = sp.csr_matrix(X.matrix, dtype=np.float64)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
        weighted = sp.csr_matrix(matrix @ sp.diags(1.0 / (norms + np.sqrt(self.shrink) + 1e-12)))
        # Twice the neighbours when a penalty will re-order them; one more for the item itself.
        wanted = self.neighbours * (2 if self.popularity_penalty else 1) + 1
        sims = drop_diagonal(
            sp.csr_matrix(all_pairs_knn(weighted, wanted, num_threads=self.num_threads, show_progress=False))
        )
        if self.popularity_penalty:
            penalty = np.power(np.maximum(self.popularity_, 1.0), -self.popularity_penalty)
            sims = sp.csr_matrix(sims @ sp.diags(penalty))
        sims.eliminate_zeros()
        self.similarity_ = keep_top_k(sims, self.neighbours).astype(np.float32)

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray((self.interactions_.matrix[rows] @ self.similarity_).toarray())
