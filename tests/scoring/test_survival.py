"""The next-purchase model scores at one horizon without a customers x distinct-times curve."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd

from tagora.scoring.survival import NextPurchaseModel, outcomes


def _fitted(customers: int, seed: int = 3) -> tuple[NextPurchaseModel, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"recency": rng.gamma(2, 30, customers), "orders": rng.poisson(3, customers) + 1.0})
    wait = rng.exponential(20 + X["recency"].to_numpy() / 3)  # every wait distinct: one curve column each
    seen = wait < 90
    return NextPurchaseModel().fit(X, outcomes(seen, np.where(seen, wait, 90.0))), X


def test_the_probability_within_a_horizon_is_the_survival_curve_at_that_horizon() -> None:
    model, X = _fitted(400)
    curves = model.cox_.predict_survival_function(model._z(X), return_array=True)
    for days in (0.5, 7, 30, 89.9, 500):
        column = np.searchsorted(model.cox_.unique_times_, min(days, model.max_days_), side="right") - 1
        expected = 1.0 - curves[:, column] if column >= 0 else np.zeros(len(X))
        np.testing.assert_array_equal(model.predict_purchase_within(X, days), expected)
    assert model.predict_purchase_within(X, 1e-9).tolist() == [0.0] * len(X)


def test_scoring_many_customers_allocates_per_customer_not_per_customer_and_distinct_time() -> None:
    model, _ = _fitted(3000)
    assert len(model.cox_.unique_times_) > 2500
    many = pd.DataFrame(
        {"recency": np.linspace(0, 400, 20_000), "orders": np.tile([1.0, 2.0, 5.0, 9.0], 5000)}
    )
    tracemalloc.start()
    try:
        p = model.predict_purchase_within(many, 30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The dense curve would be 20,000 x 2,500+ float64 = 400+ MB; a few vectors of 20,000 are ~1 MB.
    assert peak < 20 * 2**20
    assert ((p > 0) & (p < 1)).all()
