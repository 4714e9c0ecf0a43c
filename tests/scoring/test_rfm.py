"""RFM scores (quantiles or business thresholds) and the eight standard segments."""

from __future__ import annotations

import numpy as np
import pytest

from tagora.scoring.rfm import LABELS_ZH, RFMScorer, Segment


def test_quantile_scores_put_recent_frequent_big_spenders_at_five() -> None:
    recency = np.arange(100.0)  # days since last purchase: 0 is the most recent
    frequency = np.arange(100.0)
    monetary = np.arange(100.0) * 10
    scores = RFMScorer(bins=5).fit(recency, frequency, monetary).transform(recency, frequency, monetary)
    assert scores[0].tolist() == [5, 1, 1] and scores[-1].tolist() == [1, 5, 5]
    assert sorted(np.bincount(scores[:, 1])[1:].tolist()) == [20, 20, 20, 20, 20]


def test_threshold_scores_follow_the_business_cut_points() -> None:
    scorer = RFMScorer(
        method="threshold",
        bins=3,
        thresholds={"recency": [30, 90], "frequency": [2, 5], "monetary": [100, 1000]},
    ).fit([0], [1], [1])
    assert scorer.transform([10, 30, 200], [1, 2, 9], [50, 100, 5000]).tolist() == [
        [3, 1, 1],
        [2, 2, 2],
        [1, 3, 3],
    ]


def test_the_eight_segments_split_on_each_dimensions_mean_score() -> None:
    recency = np.array([1.0, 1, 1, 1, 100, 100, 100, 100])
    frequency = np.array([9.0, 9, 1, 1, 9, 9, 1, 1])
    monetary = np.array([900.0, 10, 900, 10, 900, 10, 900, 10])
    scorer = RFMScorer(bins=2).fit(recency, frequency, monetary)
    segments = scorer.segments(scorer.transform(recency, frequency, monetary))
    assert [LABELS_ZH[s] for s in segments] == [
        "重要价值客户", "一般价值客户", "重要发展客户", "一般发展客户",
        "重要保持客户", "一般保持客户", "重要挽留客户", "一般挽留客户",
    ]  # fmt: skip
    assert set(segments) == set(Segment)


def test_thresholds_must_be_ascending_and_one_fewer_than_bins() -> None:
    with pytest.raises(ValueError, match=r"thresholds\['recency'\]"):
        RFMScorer(method="threshold", bins=3, thresholds={"recency": [90, 30]}).fit([1], [1], [1])
