"""Matrix factorisation with the ``implicit`` library: ALS (confidence-weighted) and BPR (pairwise)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from tagora.recs.base import Recommender
from tagora.recs.interactions import Interactions


def _csr(X: Interactions) -> sp.csr_matrix:
    return sp.csr_matrix(X.matrix, dtype=np.float32)


class _Factors(Recommender):
    customer_rows: ClassVar[tuple[str, ...]] = ("user_factors_",)

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.user_factors_[rows] @ self.item_factors_.T)

    def _train(self, make: Callable[[], Any], X: Interactions) -> None:
        # implicit runs its own threads; a multi-threaded BLAS underneath it only oversubscribes the cores.
        with threadpool_limits(limits=1, user_api="blas"):
            model = make()
            model.fit(_csr(X), show_progress=False)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)


class ALS(_Factors):
    """Implicit-feedback ALS (Hu, Koren, Volinsky); ``num_threads=0`` uses every core."""

    label: ClassVar[str] = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 2.0,
        # NDCG@10 on MovieLens and Online Retail is flat from 6 to 15 iterations (docs/recs.md).
        iterations: int = 10,
        num_threads: int = 1,
        random_state: int = 0,
        cg_steps: int = 3,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.cg_steps = cg_steps  # conjugate-gradient steps per least-squares solve
        self.num_threads = num_threads
        self.random_state = random_state

    def _fit(self, X: Interactions) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        def make() -> AlternatingLeastSquares:
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                num_threads=self.num_threads,
                random_state=self.random_state,
            )
            model.cg_steps = self.cg_steps  # not a constructor argument in implicit 0.7
            return model

        self._train(make, X)


class BPR(_Factors):
    """Bayesian personalised ranking; single-threaded by default because its parallel SGD is racy."""

    label: ClassVar[str] = "bpr"

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        num_threads: int = 1,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.num_threads = num_threads
        self.random_state = random_state

    def _fit(self, X: Interactions) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        self._train(
            lambda: BayesianPersonalizedRanking(
                factors=self.factors,
                learning_rate=self.learning_rate,
                regularization=self.regularization,
                iterations=self.iterations,
                num_threads=self.num_threads,
                random_state=self.random_state,
            ),
            X,
        )
