"""Behaviour clusters (k-means, k by silhouette, described in tag terms) and lifecycle stages.

Spend and counts are long-tailed, so they are log-transformed before standardising; otherwise a handful
of wholesalers would each get a cluster of their own.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

CLUSTER_FEATURES = ("recency_days", "tenure_days", "purchase_days", "monetary", "avg_order_value",
                    "distinct_skus", "order_trend", "cancellation_share", "events_30d")  # fmt: skip


class ClusterModel(ClusterMixin, BaseEstimator):
    """``fit(X)`` tries k in ``k_values`` and keeps the k with the best silhouette (on a sample)."""

    def __init__(
        self,
        k_values: tuple[int, ...] = (3, 4, 5, 6, 7, 8),
        sample_size: int = 5000,
        random_state: int | None = 0,
    ) -> None:
        self.k_values = k_values
        self.sample_size = sample_size
        self.random_state = random_state

    def _matrix(self, X: pd.DataFrame) -> NDArray[np.float64]:
        frame = pd.DataFrame(X).astype(np.float64)
        # Signed log: keeps order, tames the long tails, leaves shares and trends near their scale.
        return np.asarray(np.sign(frame) * np.log1p(np.abs(frame)), dtype=np.float64)

    def fit(self, X: pd.DataFrame, y: object = None) -> ClusterModel:
        frame = pd.DataFrame(X)
        if len(frame) < max(self.k_values) + 1:
            raise ValueError(f"clustering needs more than {max(self.k_values)} customers, got {len(frame)}")
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.scaler_ = StandardScaler().fit(self._matrix(frame))
        Z = self.scaler_.transform(self._matrix(frame))
        rng = np.random.default_rng(self.random_state)
        sample = rng.choice(len(Z), size=min(self.sample_size, len(Z)), replace=False)
        fits = {}
        self.silhouettes_: dict[int, float] = {}
        for k in self.k_values:
            with threadpool_limits(limits=1):  # spinning OpenMP threads crawl on a shared machine
                fits[k] = KMeans(n_clusters=k, n_init=4, random_state=self.random_state).fit(Z)
            labels = fits[k].labels_[sample]
            ok = len(np.unique(labels)) > 1
            self.silhouettes_[k] = float(silhouette_score(Z[sample], labels)) if ok else -1.0
        self.k_ = max(self.silhouettes_, key=lambda k: self.silhouettes_[k])
        self.kmeans_ = fits[self.k_]
        self.labels_ = self.kmeans_.labels_
        return self

    def predict(self, X: pd.DataFrame) -> NDArray[np.int64]:
        if not hasattr(self, "kmeans_"):
            raise NotFittedError("this ClusterModel is not fitted yet; call fit first")
        frame = pd.DataFrame(X)[list(self.feature_names_in_)]
        with threadpool_limits(limits=1):
            labels = self.kmeans_.predict(self.scaler_.transform(self._matrix(frame)))
        return np.asarray(labels, dtype=np.int64)

    def describe(self, X: pd.DataFrame, labels: NDArray[np.int64], top: int = 3) -> list[dict[str, object]]:
        """Per cluster: its size, and the features furthest from the population in standard deviations,
        as tag terms (``recency_days high``); medians show the cluster's typical customer."""
        frame = pd.DataFrame(X)[list(self.feature_names_in_)]
        Z = pd.DataFrame(self.scaler_.transform(self._matrix(frame)), columns=frame.columns)
        out = []
        for cluster in range(self.k_):
            inside = labels == cluster
            shift = Z[inside].mean()
            strongest = shift.abs().sort_values(ascending=False).index[:top]
            terms = [f"{name} {'high' if shift[name] > 0 else 'low'}" for name in strongest]
            medians = frame[inside].median().round(2).to_dict()
            out.append({"cluster": cluster_name(cluster), "customers": int(inside.sum()),
                        "share": float(inside.mean()), "terms": terms, "medians": medians})  # fmt: skip
        return out


def cluster_name(index: int) -> str:
    return f"cluster_{index + 1}"


class Stage(StrEnum):
    """Customer lifecycle stages (获取 / 成长 / 成熟 / 保留 / 退出)."""

    ACQUISITION = "acquisition"
    GROWTH = "growth"
    MATURITY = "maturity"
    RETENTION = "retention"
    EXIT = "exit"


STAGES_ZH = {Stage.ACQUISITION: "获取", Stage.GROWTH: "成长", Stage.MATURITY: "成熟",
             Stage.RETENTION: "保留", Stage.EXIT: "退出"}  # fmt: skip
NEW_DAYS = 90
MATURE_PURCHASE_DAYS = 4


def lifecycle_stage(features: pd.DataFrame, churn_probability: ArrayLike) -> NDArray[np.object_]:
    """The stage of each customer, first match wins: acquisition (one purchase, first within 90 days),
    exit (churn probability >= 0.7 and silent over 90 days), retention (churn probability >= 0.4: worth
    a win-back), maturity (4+ purchase days), otherwise growth.
    """
    p = np.asarray(churn_probability, dtype=np.float64)
    days = features["purchase_days"].to_numpy()
    conditions = [
        (days <= 1) & (features["tenure_days"].to_numpy() <= NEW_DAYS),
        (p >= 0.7) & (features["recency_days"].to_numpy() > NEW_DAYS),
        p >= 0.4,
        days >= MATURE_PURCHASE_DAYS,
    ]
    choices = [Stage.ACQUISITION, Stage.EXIT, Stage.RETENTION, Stage.MATURITY]
    return np.asarray(np.select(conditions, [str(c) for c in choices], str(Stage.GROWTH)), dtype=object)
