"""Churn: gradient boosting with calibrated probabilities, its evaluation and per-customer reasons (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.inspection import permutation_importance
from sklearn.metrics import average_precision_score, roc_auc_score
from threadpoolctl import threadpool_limits

from tagora.scoring._base import FloatArray


class ChurnModel(ClassifierMixin, BaseEstimator):
    """``fit(X, y)`` with y = 1 when the customer made no purchase within the horizon after the cutoff."""

    def __init__(
        self,
        learning_rate: float = 0.03,
        max_iter: int = 200,
        max_leaf_nodes: int = 7,
        min_samples_leaf: int = 50,
        l2_regularization: float = 0.0,
        calibration: str = "sigmoid",
        cv: int = 3,
        random_state: int | None = 0,
        n_threads: int | None = 1,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state
        # OpenMP threads spin while waiting: on a shared machine more threads than free cores make the
        # booster ~100x slower, so the default is one thread (None = all cores).
        self.n_threads = n_threads

    def fit(self, X: pd.DataFrame | ArrayLike, y: ArrayLike) -> ChurnModel:
        frame = pd.DataFrame(X)
        labels = np.asarray(y, dtype=np.int64)
        if len(np.unique(labels)) < 2:
            raise ValueError("y must contain both churned (1) and retained (0) customers")
        booster = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        )
        # One booster on all the data, calibrated on out-of-fold predictions (ensemble=False): a monotone
        # sigmoid keeps the booster's ranking, so calibration never costs AUC.
        calibrated = CalibratedClassifierCV(booster, method=self.calibration, cv=self.cv, ensemble=False)
        with threadpool_limits(limits=self.n_threads):
            self.model_ = calibrated.fit(frame, labels)
        self.classes_ = self.model_.classes_
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_training_rows_ = len(frame)
        self.baseline_ = frame.median().to_numpy(dtype=np.float64)
        return self

    def _frame(self, X: pd.DataFrame | ArrayLike) -> pd.DataFrame:
        if not hasattr(self, "model_"):
            raise NotFittedError("this ChurnModel is not fitted yet; call fit first")
        frame = pd.DataFrame(X)
        if isinstance(X, pd.DataFrame):
            missing = set(self.feature_names_in_) - set(frame.columns)
            if missing:
                raise ValueError(f"X is missing features: {sorted(missing)}")
            return frame[list(self.feature_names_in_)]
        frame.columns = list(self.feature_names_in_)
        return frame

    def predict_proba(self, X: pd.DataFrame | ArrayLike) -> FloatArray:
        frame = self._frame(X)
        with threadpool_limits(limits=self.n_threads):
            return np.asarray(self.model_.predict_proba(frame), dtype=np.float64)

    def churn_probability(self, X: pd.DataFrame | ArrayLike) -> FloatArray:
        return self.predict_proba(X)[:, 1]

    def reasons(self, X: pd.DataFrame | ArrayLike, top: int = 3) -> list[list[str]]:
        """Per customer, the features whose value pushes churn up most (vs. a typical customer's value).

        Each feature in turn is set to the training median; the drop in churn probability is how much that
        feature of this customer contributes.
        """
        frame = self._frame(X)
        base = self.churn_probability(frame)
        drops = np.empty((len(frame), frame.shape[1]))
        for j, column in enumerate(frame.columns):
            typical = frame.copy()
            typical[column] = self.baseline_[j]
            drops[:, j] = base - self.churn_probability(typical)
        order = np.argsort(-drops, axis=1)[:, :top]
        names = np.asarray(frame.columns)
        return [[str(names[j]) for j in row if drops[i, j] > 0.005] for i, row in enumerate(order)]


def risk_level(probability: ArrayLike, high: float = 0.7, medium: float = 0.4) -> list[str]:
    p = np.asarray(probability, dtype=np.float64)
    return np.where(p >= high, "high", np.where(p >= medium, "medium", "low")).tolist()


def lift_table(y: ArrayLike, score: ArrayLike, groups: int = 10) -> pd.DataFrame:
    """Customers ranked by score and cut in ``groups``: churn rate per group and lift over the average."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=np.float64), "score": np.asarray(score, dtype=np.float64)})
    frame = frame.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    frame["group"] = np.arange(len(frame)) * groups // max(len(frame), 1) + 1
    table = frame.groupby("group").agg(
        customers=("y", "size"), churned=("y", "sum"), mean_score=("score", "mean")
    )
    table["churn_rate"] = table["churned"] / table["customers"]
    table["lift"] = table["churn_rate"] / frame["y"].mean()
    table["cumulative_capture"] = table["churned"].cumsum() / frame["y"].sum()
    return table


def calibration_table(y: ArrayLike, probability: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Reliability: customers cut into ``bins`` equal probability ranges; predicted vs observed rate each."""
    frame = pd.DataFrame(
        {"y": np.asarray(y, dtype=np.float64), "p": np.asarray(probability, dtype=np.float64)}
    )
    frame["bin"] = np.minimum((frame["p"] * bins).astype(int), bins - 1)
    table = frame.groupby("bin").agg(customers=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    table.index = (table.index / bins).rename("from")
    return table


@dataclass(frozen=True)
class BinaryMetrics:
    auc: float
    pr_auc: float
    base_rate: float


def binary_metrics(y: ArrayLike, score: ArrayLike) -> BinaryMetrics:
    labels = np.asarray(y)
    return BinaryMetrics(
        auc=float(roc_auc_score(labels, score)),
        pr_auc=float(average_precision_score(labels, score)),
        base_rate=float(labels.mean()),
    )


IMPORTANCE_ROWS = 50_000  # each repeat scores every feature shuffled: a sample keeps that cost fixed


def importance(
    model: ChurnModel, X: pd.DataFrame, y: ArrayLike, random_state: int = 0, max_rows: int = IMPORTANCE_ROWS
) -> dict[str, float]:
    """Permutation importance (drop in AUC) on held-out data, largest first.

    Above ``max_rows`` customers each repeat shuffles a random sample of that many (seeded): the ranking
    of ~25 features is settled long before, and the cost stays the same at a million customers.
    """
    result = permutation_importance(
        model, model._frame(X), np.asarray(y), scoring="roc_auc", n_repeats=3, random_state=random_state,
        max_samples=min(max_rows, len(X)),
    )  # fmt: skip
    pairs = zip(model.feature_names_in_, result.importances_mean, strict=True)
    return dict(sorted(((str(k), float(v)) for k, v in pairs), key=lambda kv: -kv[1]))
