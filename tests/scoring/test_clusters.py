"""Behaviour clusters pick k by silhouette and describe themselves; lifecycle stages follow their rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tagora.scoring.clusters import ClusterModel, Stage, lifecycle_stage


def three_groups(n: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    centres = [(300.0, 1.0, 50.0), (10.0, 12.0, 5000.0), (20.0, 1.0, 80.0)]  # lapsed, loyal, new
    rows = [
        (rng.normal(rec, rec * 0.1), max(1.0, rng.normal(days, 0.5)), rng.normal(spend, spend * 0.1))
        for rec, days, spend in centres
        for _ in range(n)
    ]
    return pd.DataFrame(rows, columns=["recency_days", "purchase_days", "monetary"])


def test_k_means_finds_the_three_planted_groups_and_names_what_sets_them_apart() -> None:
    X = three_groups()
    model = ClusterModel(k_values=(2, 3, 4, 5)).fit(X)
    assert model.k_ == 3 and model.silhouettes_[3] == max(model.silhouettes_.values())
    labels = model.predict(X)
    assert all(len(set(labels[i * 150 : (i + 1) * 150])) == 1 for i in range(3))
    described = {d["cluster"]: d for d in model.describe(X, labels)}
    loyal = described[f"cluster_{labels[150] + 1}"]
    assert loyal["customers"] == 150 and "monetary high" in loyal["terms"]
    lapsed = described[f"cluster_{labels[0] + 1}"]
    assert "recency_days high" in lapsed["terms"]


def test_lifecycle_stages_take_the_first_rule_that_holds() -> None:
    features = pd.DataFrame(
        {
            "purchase_days": [1, 3, 3, 6, 2, 1],
            "tenure_days": [20, 400, 400, 400, 400, 200],
            "recency_days": [20, 200, 30, 10, 40, 150],
        }
    )
    churn = [0.9, 0.8, 0.5, 0.1, 0.2, 0.75]
    assert lifecycle_stage(features, churn).tolist() == [
        Stage.ACQUISITION, Stage.EXIT, Stage.RETENTION, Stage.MATURITY, Stage.GROWTH, Stage.EXIT,
    ]  # fmt: skip
