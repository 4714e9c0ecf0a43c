"""Training the default recommender stays bounded: tuning on a sample of customers, EASE on catalogues it
can hold, item similarities on the customers two items actually have."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from tagora.recs.base import item_space
from tagora.recs.ease import EASE, MAX_ITEMS
from tagora.recs.evaluate import Split, Truth, evaluate, random_split, sample_truth, truth_of
from tagora.recs.experiment import tuning_split
from tagora.recs.interactions import Interactions, build_interactions
from tagora.recs.itemcf import ItemCF
from tests.recs.conftest import frame


def test_a_sample_of_the_evaluated_customers_is_seeded_and_keeps_each_ones_items() -> None:
    rows = np.arange(100, 1100, dtype=np.int64)
    truth = Truth(rows, [np.array([r % 7, r % 11]) for r in rows.tolist()])
    sample = sample_truth(truth, 50)
    assert len(sample.rows) == 50 and len(set(sample.rows.tolist())) == 50
    assert all(items.tolist() == [r % 7, r % 11] for r, items in zip(sample.rows, sample.items, strict=True))
    assert sample.rows.tolist() == sample_truth(truth, 50).rows.tolist()  # the same sample every time
    assert sample_truth(truth, 1000) is truth  # all of them when there are no more than asked


def test_ease_refuses_a_catalogue_it_would_need_gigabytes_for_before_allocating_anything() -> None:
    items = MAX_ITEMS + 1
    behaviours = pd.DataFrame(
        {
            "uid": np.arange(items) % 50,
            "sku": [f"S{i}" for i in range(items)],
            "behaviour": "purchase",
            "at": pd.Timestamp("2026-01-01", tz="UTC"),
        }
    )
    X = build_interactions(behaviours, None, half_life_days=None)
    with pytest.raises(ValueError, match="max_items"):
        EASE().fit(X)


def test_item_similarities_equal_the_cosine_of_the_item_vectors(films: Interactions) -> None:
    vectors = normalize(sp.csr_matrix(films.matrix.T, dtype=np.float64), axis=1)
    last = films.shape[1] - 1
    cols, others = np.array([0, 49, 180, last]), np.array([3, 49, 7, 300, last - 5, 12])
    expected = (vectors[cols] @ vectors[others].T).toarray()
    space = item_space(films)
    np.testing.assert_allclose(space.similarity(cols, others), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(space.similarity(others, cols), expected.T, rtol=1e-5, atol=1e-6)


def test_ranking_only_evaluation_gives_the_same_ranking_metrics(
    movielens: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    behaviours, catalogue = movielens
    split = random_split(behaviours, 0.2, 42)
    X = build_interactions(split.train, catalogue, half_life_days=None)
    truth = sample_truth(truth_of(X, split.test), 300)
    model = ItemCF(neighbours=50).fit(X)
    full, ranking = evaluate(model, X, truth, 10), evaluate(model, X, truth, 10, ranking_only=True)
    for metric in ("precision", "recall", "ndcg", "map", "hit_rate"):
        assert ranking[metric] == full[metric]
    assert full["diversity"] > 0 and ranking["diversity"] == 0


def test_tuning_keeps_a_seeded_sample_of_whole_customers_and_everyone_when_fewer() -> None:
    rows = [
        (u, f"S{(u * 7 + i) % 40}", "purchase", f"2026-01-{1 + i:02d}") for u in range(300) for i in range(3)
    ]
    split = Split(frame(rows), frame([(u, "S1", "purchase", "2026-02-01") for u in range(0, 300, 3)]))
    sample = tuning_split(split, 50)
    kept = set(sample.train["uid"])
    assert len(kept) == 50 and (sample.train.groupby("uid").size() == 3).all()  # whole histories
    assert set(sample.test["uid"]) <= kept and len(sample.test) == sum(1 for u in kept if u % 3 == 0)
    assert tuning_split(split, 50).train.equals(sample.train)  # the same sample every time
    assert tuning_split(split, 300) is split
