"""Churn's permutation importance scores a bounded sample, so its cost does not grow with the customers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tagora.scoring.churn import ChurnModel, importance


class CountingChurnModel(ChurnModel):
    """The real model; it also remembers how many customers each scoring call was given."""

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        self.scored_rows_ = [*getattr(self, "scored_rows_", []), len(X)]
        return super().predict_proba(X)


def _data(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(5)
    X = pd.DataFrame(
        {"recency": rng.gamma(2, 40, n), "orders": rng.poisson(3, n) + 1.0, "noise": rng.normal(size=n)}
    )
    y = (rng.random(n) < 1 / (1 + np.exp(2 - X["recency"].to_numpy() / 40))).astype(int)
    return X, y


def test_importance_above_the_cap_shuffles_a_sample_of_that_many_customers() -> None:
    X, y = _data(3000)
    model = CountingChurnModel(max_iter=20, min_samples_leaf=20).fit(X, y)
    ranked = importance(model, X, y, max_rows=500)
    # One baseline score on everyone (linear, once); every shuffled feature on the sample only.
    assert sorted(model.scored_rows_) == [500] * 9 + [3000]
    assert next(iter(ranked)) == "recency" and set(ranked) == {"recency", "orders", "noise"}


def test_importance_below_the_cap_uses_every_customer_as_before() -> None:
    X, y = _data(800)
    model = CountingChurnModel(max_iter=20, min_samples_leaf=20).fit(X, y)
    assert importance(model, X, y, max_rows=800) == importance(model, X, y)
    assert set(model.scored_rows_) == {800}
