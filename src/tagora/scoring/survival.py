"""Time to the next purchase (survival analysis) for the early-warning view: who will buy again, and when.

A Cox proportional-hazards model (scikit-survival) on the same behaviour features as churn, with
censoring: a customer who did not buy again before the end of the observed window only tells us the wait
is longer than that. Pure; the warehouse side is in ``pipeline``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.util import Surv

from tagora.scoring._base import FloatArray

EVENT, TIME = "event", "time"  # the field names Surv.from_arrays gives


def outcomes(bought: ArrayLike, days: ArrayLike) -> NDArray[np.void]:
    """scikit-survival's structured ``y``: whether the purchase was seen, and the wait (or time observed)."""
    event, time = np.asarray(bought, dtype=bool), np.asarray(days, dtype=np.float64)
    return np.asarray(Surv.from_arrays(event=event, time=time, name_event=EVENT, name_time=TIME))


class NextPurchaseModel(BaseEstimator):
    """``fit(X, y)`` with ``y = outcomes(bought, days)``; ridge-penalised Cox on signed-log features."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    @staticmethod
    def _matrix(X: pd.DataFrame | ArrayLike) -> NDArray[np.float64]:
        values = np.asarray(pd.DataFrame(X), dtype=np.float64)
        return np.asarray(np.sign(values) * np.log1p(np.abs(values)), dtype=np.float64)

    def fit(self, X: pd.DataFrame | ArrayLike, y: NDArray[np.void]) -> NextPurchaseModel:
        frame = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.scaler_ = StandardScaler().fit(self._matrix(frame))
        Z = np.nan_to_num(self.scaler_.transform(self._matrix(frame)))
        self.cox_ = CoxPHSurvivalAnalysis(alpha=self.alpha).fit(Z, y)
        self.max_days_ = float(np.max(y[TIME]))
        return self

    def _z(self, X: pd.DataFrame | ArrayLike) -> NDArray[np.float64]:
        if not hasattr(self, "cox_"):
            raise NotFittedError("this NextPurchaseModel is not fitted yet; call fit first")
        frame = pd.DataFrame(X)
        if isinstance(X, pd.DataFrame):
            frame = frame[list(self.feature_names_in_)]
        return np.nan_to_num(self.scaler_.transform(self._matrix(frame)))

    def predict(self, X: pd.DataFrame | ArrayLike) -> FloatArray:
        """Risk score: higher means a sooner next purchase."""
        z = self._z(X)  # checks fitted first
        return np.asarray(self.cox_.predict(z), dtype=np.float64)

    def predict_purchase_within(self, X: pd.DataFrame | ArrayLike, days: float) -> FloatArray:
        """P(next purchase within ``days``) — at most the longest wait seen in training."""
        z = self._z(X)
        at = min(days, self.max_days_)
        column = np.searchsorted(self.cox_.unique_times_, at, side="right") - 1
        if column < 0:
            return np.zeros(z.shape[0], dtype=np.float64)
        # S(t | x) = S0(t) ** exp(x'b) at the one time asked for: the same numbers as the column of
        # predict_survival_function's customers x distinct-times array, which is 18 GiB at 60k customers.
        baseline = self.cox_.baseline_survival_.y[column]
        alive = np.power(baseline, np.exp(self.cox_.predict(z)))
        return np.asarray(1.0 - alive, dtype=np.float64)


TIED_RISK = 1e-8  # scikit-survival's tied_tol: scores this close count as a tie (half a concordant pair)


def concordance(y: NDArray[np.void], risk: ArrayLike) -> float:
    """Harrell's C: the share of comparable pairs where the sooner buyer has the higher risk score.

    The pairs scikit-survival's ``concordance_index_censored`` counts, counted in O(n log n): its loop
    compares each purchase with every later customer, which is hours at a million customers. A pair
    (i, j) is comparable when i bought and j's time is later (or equal and j is censored); it is
    concordant when i's risk is higher by more than ``TIED_RISK``, and a tie within it counts half.
    """
    event, time = np.asarray(y[EVENT], dtype=bool), np.asarray(y[TIME], dtype=np.float64)
    score = np.asarray(risk, dtype=np.float64)
    n = len(score)
    # Scores as ranks 0..n-1; "j's score below x" becomes "j's rank below the count of scores below x".
    by_score = np.argsort(score, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_score] = np.arange(n)
    ordered = score[by_score]
    below = np.searchsorted(ordered, score[event] - TIED_RISK, side="left")  # clearly lower: concordant
    within = np.searchsorted(ordered, score[event] + TIED_RISK, side="right")  # lower or tied
    # Customers latest first; a purchase at time t is compared with the prefix of strictly later times.
    by_time = np.argsort(-time, kind="stable")
    later = np.searchsorted(-time[by_time], -time[event], side="left")
    ranks_by_time = rank[by_time]
    both = _prefix_below(ranks_by_time, np.concatenate([later, later]), np.concatenate([below, within]))
    concordant, tied = both[: len(later)], both[len(later) :] - both[: len(later)]
    pairs = later.astype(np.int64)
    # Censored customers at exactly the purchase's time are comparable too.
    censored = ~event
    if censored.any():
        group = np.unique(time, return_inverse=True)[1]
        keys = np.sort(group[censored] * n + rank[censored])
        base = group[event] * n
        start = np.searchsorted(keys, base, side="left")
        same_below = np.searchsorted(keys, base + below, side="left") - start
        same_within = np.searchsorted(keys, base + within, side="left") - start
        concordant += same_below
        tied += same_within - same_below
        pairs += np.searchsorted(keys, base + n, side="left") - start
    total = int(pairs.sum())
    if total == 0:
        raise ValueError("no comparable pairs: no purchase is followed by a later or censored customer")
    return float((int(concordant.sum()) + 0.5 * int(tied.sum())) / total)


def _prefix_below(
    values: NDArray[np.int64], prefix: NDArray[np.int64], bound: NDArray[np.int64]
) -> NDArray[np.int64]:
    """For each query q, how many of ``values[:prefix[q]]`` are below ``bound[q]`` (offline, O(n log n)).

    Each prefix splits into aligned blocks of 2**k (one per set bit of its length). Level k keeps the
    values sorted within blocks of 2**k under the key ``block * n + value``, so one searchsorted counts
    inside a block; each level merges the previous level's sorted halves (timsort runs: linear).
    """
    n = len(values)
    counts = np.zeros(len(prefix), dtype=np.int64)
    position = np.arange(n, dtype=np.int64)
    merged = values.astype(np.int64)
    for level in range(max(int(n).bit_length(), 1)):
        offset = (position >> level) * n
        keys = np.sort(offset + merged, kind="stable")
        merged = keys - offset
        has = (prefix >> level) & 1 == 1
        block = (prefix[has] >> level) - 1  # [block, block + 1) * 2**level ends where the lower bits start
        needles = block * n + bound[has]
        order = np.argsort(needles)  # sorted needles make searchsorted walk the keys once: 10x faster
        found = np.empty_like(needles)
        found[order] = np.searchsorted(keys, needles[order], side="left")
        counts[has] += found - (block << level)
    return counts
