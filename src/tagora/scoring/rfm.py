"""RFM scoring and the eight standard segments (重要价值客户 ... 一般挽留客户); pure, no database.

Each of recency (days since the last purchase), frequency and monetary is scored 1..``bins`` — from
quantiles learned by ``fit`` or from business thresholds — with 5 the best (so recency is reversed). A
dimension is "high" when its score is above the population's mean score, which gives the 2x2x2 segments.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from tagora.scoring._base import FloatArray, as_vector

DIMENSIONS = ("recency", "frequency", "monetary")


class Segment(StrEnum):
    IMPORTANT_VALUE = "important_value"
    IMPORTANT_DEVELOP = "important_develop"
    IMPORTANT_KEEP = "important_keep"
    IMPORTANT_RETAIN = "important_retain"
    GENERAL_VALUE = "general_value"
    GENERAL_DEVELOP = "general_develop"
    GENERAL_KEEP = "general_keep"
    GENERAL_RETAIN = "general_retain"


LABELS_ZH = {
    Segment.IMPORTANT_VALUE: "重要价值客户",
    Segment.IMPORTANT_DEVELOP: "重要发展客户",
    Segment.IMPORTANT_KEEP: "重要保持客户",
    Segment.IMPORTANT_RETAIN: "重要挽留客户",
    Segment.GENERAL_VALUE: "一般价值客户",
    Segment.GENERAL_DEVELOP: "一般发展客户",
    Segment.GENERAL_KEEP: "一般保持客户",
    Segment.GENERAL_RETAIN: "一般挽留客户",
}
# (R high, F high, M high) -> segment
_BY_FLAGS = {
    (True, True, True): Segment.IMPORTANT_VALUE,
    (True, False, True): Segment.IMPORTANT_DEVELOP,
    (False, True, True): Segment.IMPORTANT_KEEP,
    (False, False, True): Segment.IMPORTANT_RETAIN,
    (True, True, False): Segment.GENERAL_VALUE,
    (True, False, False): Segment.GENERAL_DEVELOP,
    (False, True, False): Segment.GENERAL_KEEP,
    (False, False, False): Segment.GENERAL_RETAIN,
}


# Bits (R, F, M) read as a number index the segment, so segments() needs no Python loop.
_BY_CODE = np.asarray(
    [_BY_FLAGS[(bool(code & 4), bool(code & 2), bool(code & 1))] for code in range(8)], dtype=object
)


class RFMScorer(BaseEstimator):
    """``method="quantile"`` learns ``bins``-quantile edges; ``"threshold"`` uses ``thresholds``.

    ``thresholds`` maps each dimension to ascending cut points (``bins - 1`` of them), e.g.
    ``{"recency": [30, 90, 180, 365], "frequency": [1, 2, 5, 10], "monetary": [100, 500, 1000, 5000]}``.
    """

    def __init__(
        self, method: str = "quantile", bins: int = 5, thresholds: dict[str, list[float]] | None = None
    ) -> None:
        self.method = method
        self.bins = bins
        self.thresholds = thresholds

    def fit(self, recency: ArrayLike, frequency: ArrayLike, monetary: ArrayLike) -> RFMScorer:
        values = self._columns(recency, frequency, monetary)
        if self.bins < 2:
            raise ValueError("bins must be at least 2")
        if self.method == "quantile":
            qs = np.linspace(0, 1, self.bins + 1)[1:-1]
            self.edges_ = {d: np.quantile(v, qs) for d, v in zip(DIMENSIONS, values, strict=True)}
        elif self.method == "threshold":
            self.edges_ = {d: self._thresholds(d) for d in DIMENSIONS}
        else:
            raise ValueError(f"method must be 'quantile' or 'threshold', not {self.method!r}")
        scores = self._score(values)
        self.mean_scores_ = {d: float(s.mean()) for d, s in zip(DIMENSIONS, scores, strict=True)}
        return self

    def _thresholds(self, dimension: str) -> FloatArray:
        cuts = (self.thresholds or {}).get(dimension)
        if cuts is None or len(cuts) != self.bins - 1 or list(cuts) != sorted(cuts):
            raise ValueError(f"thresholds[{dimension!r}] must be {self.bins - 1} ascending cut points")
        return np.asarray(cuts, dtype=np.float64)

    @staticmethod
    def _columns(recency: ArrayLike, frequency: ArrayLike, monetary: ArrayLike) -> list[FloatArray]:
        r = as_vector("recency", recency)
        return [r, as_vector("frequency", frequency, r.size), as_vector("monetary", monetary, r.size)]

    def _score(self, values: list[FloatArray]) -> list[NDArray[np.int64]]:
        out = []
        for dimension, v in zip(DIMENSIONS, values, strict=True):
            # A value equal to a cut point goes to the upper bin; recency is reversed (recent = 5).
            rank = np.searchsorted(self.edges_[dimension], v, side="right") + 1
            out.append((self.bins + 1 - rank) if dimension == "recency" else rank)
        return [np.asarray(s, dtype=np.int64) for s in out]

    def transform(self, recency: ArrayLike, frequency: ArrayLike, monetary: ArrayLike) -> NDArray[np.int64]:
        """An (n, 3) array of R, F, M scores."""
        if not hasattr(self, "edges_"):
            raise NotFittedError("this RFMScorer is not fitted yet; call fit first")
        return np.column_stack(self._score(self._columns(recency, frequency, monetary)))

    def segments(self, scores: NDArray[np.int64]) -> NDArray[np.object_]:
        """Each row's segment (an object array of ``Segment``), from which dimensions are high."""
        means = [self.mean_scores_[d] for d in DIMENSIONS]
        high = (np.asarray(scores) > np.asarray(means)).astype(np.intp)
        return _BY_CODE[high[:, 0] * 4 + high[:, 1] * 2 + high[:, 2]]


def labels_zh(segments: NDArray[np.object_]) -> NDArray[np.object_]:
    """The Chinese names of segments, element by element."""
    names = np.asarray([LABELS_ZH[s] for s in _BY_CODE], dtype=object)
    codes = {segment: code for code, segment in enumerate(_BY_CODE)}
    return names[np.fromiter((codes[s] for s in segments), dtype=np.intp, count=len(segments))]
