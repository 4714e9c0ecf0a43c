"""Tag-based: a customer's interest tags x product tags.

Product tags are every category path prefix ("cat:home", "cat:home/kitchen") and the brand. A customer's
interest tags are the shares of those tags in their weighted history, strongest ``interests`` kept — the
same thing a weighted "interests" customer tag holds — so a customer who buys kitchen knives from two
brands is shown other kitchen items of those brands first.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from tagora.recs.base import Explanation, Recommender, names_of
from tagora.recs.interactions import Interactions, ItemInfo
from tagora.recs.neighbours import keep_top_k


def product_tags(items: ItemInfo) -> tuple[sp.csr_matrix, np.ndarray]:
    """A binary item x tag matrix and the tag names."""
    docs = []
    for category, brand in zip(items.categories, items.brands, strict=True):
        parts = [p for p in str(category).split("/") if p]
        tags = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        docs.append(tags + ([f"brand {brand}"] if str(brand) else []))
    names = np.array(sorted({t for doc in docs for t in doc}), dtype=str)
    index = {t: i for i, t in enumerate(names.tolist())}
    rows = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
    cols = np.array([index[t] for doc in docs for t in doc], dtype=np.int64)
    shape = (len(docs), max(len(names), 1))
    return sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=shape), names


class TagBased(Recommender):
    """``score(u, j) = sum_t interest(u, t) * idf(t) * has(j, t)``."""

    label: ClassVar[str] = "tags"

    def __init__(self, interests: int = 5) -> None:
        self.interests = interests  # the customer's strongest interest tags that count

    def _fit(self, X: Interactions) -> None:
        tags, names = product_tags(X.items)
        carriers = np.asarray(tags.sum(axis=0)).ravel()
        # A tag every product carries ("home") says less than a narrow one ("home/kitchen/knives").
        self.idf_ = np.log((1.0 + X.shape[1]) / (1.0 + carriers)).astype(np.float32) + 1.0
        self.tags_ = tags
        self.tag_names_ = names

    def interest_tags(self, rows: np.ndarray) -> sp.csr_matrix:
        """Each customer's interest shares over tags, the strongest ``interests`` kept."""
        shares = normalize(sp.csr_matrix(self.interactions_.matrix[rows] @ self.tags_), norm="l1", axis=1)
        return keep_top_k(sp.csr_matrix(shares), self.interests)

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        weighted = sp.csr_matrix(self.interest_tags(rows) @ sp.diags(self.idf_))
        return np.asarray((weighted @ self.tags_.T).toarray())

    def explain_col(self, uid: int, col: int, score: float) -> Explanation:
        X = self.interactions_
        row = X.row(uid)
        if row is None or not len(self.tag_names_):
            return super().explain_col(uid, col, score)
        interest = np.asarray(self.interest_tags(np.array([row])).toarray()).ravel()
        shared = interest * self.idf_ * np.asarray(self.tags_[col].toarray()).ravel()
        if shared.max(initial=0.0) <= 0:
            return super().explain_col(uid, col, score)
        tag = int(np.argmax(shared))
        history = X.history(row)
        carriers = history[np.asarray(self.tags_[history, tag].toarray()).ravel() > 0][:2]
        return Explanation(
            f"you often choose {self.tag_names_[tag]}, like {names_of(X, carriers)}",
            tuple(str(X.items.skus[c]) for c in carriers),
        )
