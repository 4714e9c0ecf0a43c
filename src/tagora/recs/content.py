"""Content-based: items that share words, categories and brand with what the customer chose."""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from tagora.recs.base import Explanation, Recommender, names_of
from tagora.recs.interactions import Interactions, ItemInfo

WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
STOP = frozenset({"of", "the", "and", "set", "with", "in", "for", "a", "an", "to"})


def item_tokens(name: str, category: str, brand: str) -> list[str]:
    """Name words, every category path prefix ("cat:home", "cat:home/kitchen") and the brand."""
    words = [w for w in WORD.findall(name.lower()) if w not in STOP and not w.isdigit()]
    parts = [p for p in category.split("/") if p]
    cats = ["cat:" + "/".join(parts[: i + 1]) for i in range(len(parts))]
    return words + cats + ([f"brand:{brand.lower()}"] if brand else [])


def item_features(items: ItemInfo) -> sp.csr_matrix:
    docs = [
        item_tokens(str(n), str(c), str(b))
        for n, c, b in zip(items.names, items.categories, items.brands, strict=True)
    ]
    if not any(docs):
        return sp.csr_matrix((len(docs), 1), dtype=np.float32)
    vectorizer = TfidfVectorizer(analyzer=lambda doc: doc, sublinear_tf=True, min_df=1)
    return sp.csr_matrix(vectorizer.fit_transform(docs), dtype=np.float32)


class ContentBased(Recommender):
    """Customer profile = their weighted items' TF-IDF vectors; items ranked by cosine to the profile."""

    label: ClassVar[str] = "content"

    def __init__(self, recent: int = 50) -> None:
        self.recent = recent  # strongest history items that form the profile

    def _fit(self, X: Interactions) -> None:
        self.features_ = item_features(X.items)

    def _profiles(self, rows: np.ndarray) -> sp.csr_matrix:
        history = sp.csr_matrix(self.interactions_.matrix[rows])
        return sp.csr_matrix(normalize(history @ self.features_, axis=1))

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray((self._profiles(rows) @ self.features_.T).toarray())

    def _item_similarities(self, col: int) -> np.ndarray:
        return np.asarray((self.features_ @ self.features_[col].T).toarray()).ravel()

    def explain_col(self, uid: int, col: int, score: float) -> Explanation:
        X = self.interactions_
        row = X.row(uid)
        if row is None:
            return Explanation("popular with customers right now")
        history = X.history(row)[: self.recent]
        sims = np.asarray((self.features_[history] @ self.features_[col].T).toarray()).ravel()
        best = int(np.argmax(sims)) if len(sims) else -1
        if best < 0 or sims[best] <= 0:
            return super().explain_col(uid, col, score)
        linked = [int(history[best])]
        return Explanation(f"similar to {names_of(X, linked)} you chose", (str(X.items.skus[linked[0]]),))
