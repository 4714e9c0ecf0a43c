"""The next-purchase model at scale: scores at one horizon without a customers x distinct-times curve, and
concordance without comparing every pair."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sksurv.metrics import concordance_index_censored

from tagora.scoring.survival import NextPurchaseModel, concordance, outcomes


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


@pytest.mark.parametrize("seed", range(40))
def test_concordance_counts_the_pairs_scikit_survival_counts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    days = rng.integers(1, 9, n).astype(float) if seed % 2 else rng.exponential(5, n)  # tied times
    bought = rng.random(n) < rng.uniform(0.1, 0.95)
    risk = np.round(rng.normal(size=n), 1) if seed % 3 == 0 else rng.normal(size=n)  # tied scores
    if seed % 5 == 0:
        risk = risk + (rng.random(n) < 0.3) * 5e-9  # within scikit-survival's tie tolerance
    try:
        expected: float | str = concordance_index_censored(bought, days, risk)[0]
    except ValueError:
        expected = "no comparable pairs"
    try:
        got: float | str = concordance(outcomes(bought, days), risk)
    except ValueError:
        got = "no comparable pairs"
    assert got == pytest.approx(expected, abs=1e-12) if isinstance(expected, float) else got == expected


def test_concordance_over_a_few_hundred_thousand_customers_takes_seconds() -> None:
    rng = np.random.default_rng(0)
    n = 300_000  # pairwise, as scikit-survival counts them, this is minutes
    days = rng.exponential(30, n)
    started = time.perf_counter()
    c = concordance(outcomes(rng.random(n) < 0.6, days), -days + rng.normal(0, 20, n))
    assert time.perf_counter() - started < 30
    assert 0.6 < c < 1.0
