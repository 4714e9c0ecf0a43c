"""The one recommender interface (scikit-learn's estimator contract) and what every algorithm shares.

A subclass stores hyperparameters in ``__init__``, learns in ``_fit`` (attributes ending in ``_``) and
scores users in ``_score_rows``; ranking, business filters, cold start, similar items and
explanations live here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from tagora.recs.interactions import Interactions

HISTORY = 50  # an explanation looks for links among the customer's strongest items (bounds its cost)


@dataclass(frozen=True)
class Filters:
    """Business rules on a list: drop what the customer already has, keep a category and a price range."""

    exclude_seen: bool = True
    exclude_skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # category path prefixes, e.g. "home/kitchen"
    price_min: float | None = None
    price_max: float | None = None


@dataclass(frozen=True)
class Explanation:
    reason: str
    because: tuple[str, ...] = ()  # SKUs from the customer's own history


@dataclass(frozen=True)
class Recommendation:
    sku: str
    name: str
    score: float
    reason: str
    because: tuple[str, ...] = ()


def _key(cols: np.ndarray) -> bytes:
    return np.asarray(cols, dtype=np.int64).tobytes()


class ItemSpace:
    """Item-item cosine over the interaction matrix: similar items, explanations, MMR and diversity."""

    def __init__(self, interactions: Interactions) -> None:
        self.interactions = interactions
        self._primed: tuple[bytes, dict[int, np.ndarray]] | None = None

    @cached_property
    def vectors(self) -> sp.csr_matrix:
        return sp.csr_matrix(normalize(self.interactions.matrix.T.tocsr(), axis=1), dtype=np.float32)

    def similarity(self, cols: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Dense ``len(cols) x len(others)`` cosine."""
        primed = self._primed
        if primed is not None and primed[0] == _key(others) and all(int(c) in primed[1] for c in cols):
            return np.vstack([primed[1][int(c)] for c in cols])
        return self._product(cols, others)

    def prime(self, cols: np.ndarray, others: np.ndarray) -> None:
        """Compute a whole list's similarities to one history in one product; ``similarity`` reads them.

        Explaining a list asks for one item at a time; one product instead of ten halves serving time.
        One (key, value) tuple, so concurrent readers never see a mismatched pair.
        """
        sims = self._product(cols, others)
        self._primed = (_key(others), {int(c): sims[i] for i, c in enumerate(cols.tolist())})

    def _product(self, cols: np.ndarray, others: np.ndarray) -> np.ndarray:
        # The items' vectors run over every customer: transposed as they are, each product would cost
        # O(customers) (the index of the other layout), so per-customer diversity grew quadratically.
        # Renumbered onto the customers these rows actually mention, a product costs what they hold.
        v = self.vectors
        a, b = v[cols], v[others]
        mentioned = np.union1d(a.indices, b.indices)
        a, b = _on_columns(a, mentioned), _on_columns(b, mentioned)
        # Converting a block to the other sparse layout is the cost: transpose the smaller side.
        if len(cols) <= len(others):
            return np.asarray((b @ sp.csr_matrix(a.T)).toarray().T, dtype=np.float32)
        return np.asarray((a @ sp.csr_matrix(b.T)).toarray(), dtype=np.float32)


def _on_columns(block: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """``block`` restricted to the sorted ``columns`` it uses (renumbered 0..len-1)."""
    indices = np.searchsorted(columns, block.indices).astype(block.indices.dtype)
    return sp.csr_matrix((block.data, indices, block.indptr), shape=(block.shape[0], len(columns)))


def item_space(interactions: Interactions) -> ItemSpace:
    # One per matrix, shared by every estimator fitted on it (the dataclass is frozen, its dict is not).
    cache = interactions.__dict__.setdefault("_space", None)
    if cache is None:
        cache = ItemSpace(interactions)
        interactions.__dict__["_space"] = cache
    return cache


def names_of(interactions: Interactions, cols: np.ndarray | list[int]) -> str:
    names = [str(interactions.items.names[c]) for c in cols]
    return ", ".join(f"“{n}”" for n in names)


def day_of(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()


class Recommender(BaseEstimator):
    """``fit(interactions)``, ``recommend(uid, n, filters)``, ``similar_items(sku, n)``, ``explain``."""

    label: ClassVar[str] = "recommender"
    # Learned attributes with one row per customer: what erasure must clear (item-side aggregates such as
    # similarities keep a customer's share until the next training).
    customer_rows: ClassVar[tuple[str, ...]] = ()

    def fit(self, X: Interactions, y: Any = None) -> Self:
        self.interactions_ = X
        counts = np.asarray((X.matrix > 0).sum(axis=0)).ravel().astype(np.float32)
        self.popularity_ = counts
        self._fit(X)
        return self

    def _fit(self, X: Interactions) -> None:
        raise NotImplementedError

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forget_row(self, row: int) -> None:
        """Clear what this model learned about the customer in matrix ``row`` (erasure)."""
        for name in self.customer_rows:
            value = getattr(self, name)
            if sp.issparse(value):
                value = sp.csr_matrix(value)
                value.data[value.indptr[row] : value.indptr[row + 1]] = 0
                value.eliminate_zeros()
                setattr(self, name, value)
            else:
                value[row] = 0
        for part in self.parts():
            part.forget_row(row)

    def parts(self) -> list[Recommender]:
        """The fitted models inside this one (hybrids)."""
        return []

    # -- scoring ---------------------------------------------------------------------------------
    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        """Scores of every item for the given matrix rows: a dense ``len(rows) x n_items`` float32."""
        check_is_fitted(self, "interactions_")
        return np.asarray(self._score_rows(np.asarray(rows, dtype=np.int64)), dtype=np.float32)

    def cold_scores(self) -> np.ndarray:
        """What a customer with no history gets: the most popular items."""
        check_is_fitted(self, "interactions_")
        return np.asarray(self.popularity_, dtype=np.float32)

    def score_user(self, uid: int) -> np.ndarray:
        check_is_fitted(self, "interactions_")
        row = self.interactions_.row(uid)
        return self.cold_scores().copy() if row is None else self.score_rows(np.array([row]))[0]

    # -- ranking ---------------------------------------------------------------------------------
    def allowed(self, uid: int, filters: Filters) -> np.ndarray:
        """A boolean mask over items that pass the business filters for this customer."""
        X = self.interactions_
        keep = np.ones(X.shape[1], dtype=bool)
        row = X.row(uid)
        if filters.exclude_seen and row is not None:
            keep[X.history(row)] = False
        for sku in filters.exclude_skus:
            col = X.col(sku)
            if col is not None:
                keep[col] = False
        if filters.categories:
            cats = X.items.categories
            keep &= np.array(
                [any(c == p or c.startswith(p.rstrip("/") + "/") for p in filters.categories) for c in cats],
                dtype=bool,
            )
        prices = X.items.prices
        if filters.price_min is not None:
            keep &= np.nan_to_num(prices, nan=-np.inf) >= filters.price_min
        if filters.price_max is not None:
            keep &= np.nan_to_num(prices, nan=np.inf) <= filters.price_max
        return keep

    def rank(self, scores: np.ndarray, keep: np.ndarray, n: int) -> np.ndarray:
        """Top ``n`` allowed columns by score; ties (e.g. items the algorithm cannot score) by popularity."""
        ranked = with_popularity_ties(scores[None, :], self.popularity_)[0]
        return top_n(np.where(keep, ranked, -np.inf), n)

    def recommend(self, uid: int, n: int = 10, filters: Filters | None = None) -> list[Recommendation]:
        check_is_fitted(self, "interactions_")
        scores = self.score_user(uid)
        cols = self.rank(scores, self.allowed(uid, filters or Filters()), n)
        return self.present(uid, cols, scores, [self] * len(cols))

    def present(
        self, uid: int, cols: np.ndarray, scores: np.ndarray, explainers: list[Recommender]
    ) -> list[Recommendation]:
        """Ranked columns as recommendations, each explained by the model that put it there."""
        X = self.interactions_
        row = X.row(uid)
        if row is not None and len(cols):
            item_space(X).prime(cols, X.history(row)[:HISTORY])
        out = []
        for col, explainer in zip(cols.tolist(), explainers, strict=True):
            why = explainer.explain_col(uid, col, float(scores[col]))
            out.append(
                Recommendation(
                    sku=str(X.items.skus[col]),
                    name=str(X.items.names[col]),
                    score=round(float(scores[col]), 6),
                    reason=why.reason,
                    because=why.because,
                )
            )
        return out

    def similar_items(self, sku: str, n: int = 10) -> list[tuple[str, float]]:
        """Items most often chosen by the same customers (cosine), most similar first."""
        check_is_fitted(self, "interactions_")
        col = self._col(sku)
        sims = self._item_similarities(col)
        sims[col] = -np.inf
        top = top_n(np.where(sims > 0, sims, -np.inf), n)
        return [(str(self.interactions_.items.skus[c]), round(float(sims[c]), 6)) for c in top.tolist()]

    def _item_similarities(self, col: int) -> np.ndarray:
        space = item_space(self.interactions_)
        return np.asarray((space.vectors @ space.vectors[col].T).toarray()).ravel()

    def _col(self, sku: str) -> int:
        col = self.interactions_.col(sku)
        if col is None:
            raise KeyError(sku)
        return col

    # -- explanations ----------------------------------------------------------------------------
    def explain(self, uid: int, sku: str) -> Explanation:
        """Why ``sku`` suits ``uid``, naming items from the customer's own history where there is a link."""
        check_is_fitted(self, "interactions_")
        return self.explain_col(uid, self._col(sku), 0.0)

    def explain_col(self, uid: int, col: int, score: float) -> Explanation:
        X = self.interactions_
        row = X.row(uid)
        if row is None:
            return Explanation("popular with customers right now")
        history = X.history(row)[:HISTORY]
        if col in set(history.tolist()):
            return Explanation(f"you already chose {names_of(X, [col])}", (str(X.items.skus[col]),))
        return co_occurrence_reason(X, history, col)


def co_occurrence_reason(X: Interactions, history: np.ndarray, col: int) -> Explanation:
    if len(history) == 0:
        return Explanation("popular with customers right now")
    sims = item_space(X).similarity(np.array([col]), history)[0]
    order = np.argsort(-sims, kind="stable")[:2]
    linked = [int(history[i]) for i in order if sims[i] > 0]
    if not linked:
        return Explanation("popular with customers right now")
    return Explanation(
        f"bought with {names_of(X, linked)} you bought", tuple(str(X.items.skus[c]) for c in linked)
    )


def with_popularity_ties(scores: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Scores nudged by popularity, far below any real score gap, so equal scores go to best-sellers."""
    if scores.size == 0:  # no products (an empty store): nothing to nudge
        return scores
    scale = np.maximum(np.abs(scores).max(axis=1, keepdims=True), 1e-3)
    return scores + 1e-6 * scale * (popularity / max(float(popularity.max()), 1.0))[None, :]


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest finite scores, best first (ties by index, so results are stable)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if n <= 0 or len(finite) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(finite) > n:
        part = np.argpartition(-scores[finite], n - 1)[:n]
        finite = finite[part]
    order = np.lexsort((finite, -scores[finite]))
    return finite[order].astype(np.int64)


def top_n_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Row-wise top ``n`` column indices of a dense matrix, best first (for evaluation batches)."""
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
