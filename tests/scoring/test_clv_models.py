"""BG/NBD and Gamma-Gamma reproduce the published CDNOW estimates; predictions behave as the paper says."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tagora.scoring import BetaGeoModel, GammaGammaModel, customer_lifetime_value, summarize_purchases


def sig3(value: float) -> str:
    return f"{value:.3g}"


@pytest.fixture(scope="module")
def bgnbd(cdnow_calibration: pd.DataFrame) -> BetaGeoModel:
    s = cdnow_calibration
    return BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])


@pytest.fixture(scope="module")
def gamma_gamma(cdnow_calibration: pd.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow_calibration["frequency"], cdnow_calibration["monetary_value"])


def test_the_cdnow_calibration_sample_has_the_papers_2357_customers_and_946_repeaters(
    cdnow_calibration: pd.DataFrame,
) -> None:
    assert len(cdnow_calibration) == 2357
    assert int((cdnow_calibration["frequency"] > 0).sum()) == 946


def test_bgnbd_on_cdnow_equals_the_published_estimates_to_three_significant_digits(
    bgnbd: BetaGeoModel,
) -> None:
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: sig3(v) for k, v in bgnbd.params_.items()} == {k: sig3(v) for k, v in published.items()}
    assert sig3(bgnbd.log_likelihood_) == sig3(-9582.4)


def test_gamma_gamma_on_cdnow_equals_the_published_estimates_to_three_significant_digits(
    gamma_gamma: GammaGammaModel,
) -> None:
    published = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert {k: sig3(v) for k, v in gamma_gamma.params_.items()} == {k: sig3(v) for k, v in published.items()}
    assert gamma_gamma.n_customers_ == 946


def test_conditional_expectation_matches_the_papers_worked_example(bgnbd: BetaGeoModel) -> None:
    # Fader, Hardie & Lee (2005), section 5: x = 2, t_x = 30.43, T = 38.86 -> 1.226 purchases in 39 weeks.
    assert bgnbd.predict_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=5e-4)


def test_a_customer_silent_for_long_after_many_purchases_is_probably_gone(bgnbd: BetaGeoModel) -> None:
    alive = bgnbd.predict_proba_alive([0, 10, 10], [0, 38, 5], [38, 38, 38])
    assert alive[0] == 1.0  # no repeat purchase yet: BG/NBD dropout only follows a purchase
    assert alive[1] > 0.9 > 0.1 > alive[2]


def test_expected_purchases_grow_with_the_horizon_and_sum_over_customers_like_the_holdout(
    bgnbd: BetaGeoModel, cdnow_calibration: pd.DataFrame
) -> None:
    s = cdnow_calibration
    short, long = (bgnbd.predict_purchases(t, s["frequency"], s["recency"], s["T"]) for t in (10, 39))
    assert np.all(long >= short) and np.all(short >= 0)
    # The paper's holdout (weeks 40-78) has 1,788 repeat transactions; the model forecasts close to it.
    assert 1600 < long.sum() < 2000


def test_next_purchase_wait_is_shorter_for_frequent_buyers(bgnbd: BetaGeoModel) -> None:
    waits = bgnbd.predict_next_purchase([1, 8], [20, 36], [38, 38])
    assert 0 < waits[1] < waits[0]


def test_clv_is_discounted_and_grows_with_the_horizon(
    bgnbd: BetaGeoModel, gamma_gamma: GammaGammaModel
) -> None:
    args = (bgnbd, gamma_gamma, [3, 0], [30.0, 0.0], [38.0, 30.0], [40.0, 0.0])
    one_year = customer_lifetime_value(*args, horizon_days=365, unit_days=7)
    discounted = customer_lifetime_value(*args, horizon_days=365, annual_discount_rate=0.1, unit_days=7)
    two_years = customer_lifetime_value(*args, horizon_days=730, unit_days=7)
    assert np.all(discounted < one_year) and np.all(one_year < two_years)
    expected = bgnbd.predict_purchases(365 / 7, [3], [30.0], [38.0]) * gamma_gamma.predict_spend([3], [40.0])
    assert one_year[0] == pytest.approx(expected[0])


def test_summary_merges_same_day_purchases_and_ignores_anything_after_the_cutoff() -> None:
    orders = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "a", "b"],
            "ordered_at": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:00",
                    "2024-01-08 00:00",
                    "2024-03-01 00:00",
                    "2024-01-15 00:00",
                ],
                utc=True,
            ),
            "amount": [10.0, 5.0, 20.0, 999.0, 7.0],
        }
    )
    summary = summarize_purchases(orders, date(2024, 1, 31))
    assert summary.loc["a", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        1.0,
        7.0,
        30.0,
        20.0,
    ]
    assert summary.loc["b", ["frequency", "recency", "T", "monetary_value"]].tolist() == [0.0, 0.0, 16.0, 0.0]


def test_collapsing_identical_rows_with_weights_gives_the_same_fit(cdnow_calibration: pd.DataFrame) -> None:
    s = cdnow_calibration
    grouped = s.groupby(["frequency", "recency", "T"]).size().reset_index(name="weight")
    weighted = BetaGeoModel().fit(
        grouped["frequency"], grouped["recency"], grouped["T"], weights=grouped["weight"]
    )
    plain = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    assert weighted.params_ == pytest.approx(plain.params_, rel=1e-4)


def test_fit_rejects_a_recency_beyond_the_observation_period() -> None:
    with pytest.raises(ValueError, match="recency must not exceed T"):
        BetaGeoModel().fit([1], [5.0], [3.0])


def fitted(**params: float) -> BetaGeoModel:
    model = BetaGeoModel()
    model.params_ = dict(params)
    return model


def test_the_quadrature_fallback_agrees_with_the_closed_form_where_both_work() -> None:
    from tagora.scoring.bgnbd import alive_purchases_by_quadrature

    params = {"r": 0.9, "alpha": 100.0, "a": 5.0, "b": 40.0}
    x, big_t = np.array([0.0, 2, 7]), np.array([50.0, 200, 300])
    closed = fitted(**params).predict_cumulative_purchases([90.0], x, np.zeros(3), big_t)[0]
    alive = fitted(**params).predict_proba_alive(x, np.zeros(3), big_t)
    quadrature = alive_purchases_by_quadrature(params, 90.0, x, big_t) * alive
    assert quadrature == pytest.approx(closed, rel=1e-6)


def test_expected_purchases_stay_finite_when_dropout_is_almost_certainly_tiny() -> None:
    # A fit on a young shop where nearly nobody drops out: scipy's 2F1 alone returns NaN here.
    model = fitted(r=0.95, alpha=101.7, a=1599.0, b=162754.8)
    x, t_x, big_t = np.array([0.0, 3, 12]), np.array([0.0, 100, 300]), np.array([200.0, 250, 330])
    curve = model.predict_cumulative_purchases([30.0, 180.0, 365.0], x, t_x, big_t)
    assert np.all(np.isfinite(curve)) and np.all(np.diff(curve, axis=0) > 0)
    # Almost no dropout: if alive, close to the Poisson-Gamma rate (r + x) / (alpha + T) times 30 days.
    no_dropout = (0.95 + x) / (101.7 + big_t) * 30 * model.predict_proba_alive(x, t_x, big_t)
    assert curve[0] == pytest.approx(no_dropout, rel=0.05)


def test_spend_stays_finite_and_positive_when_the_population_mean_is_infinite() -> None:
    model = GammaGammaModel()
    model.params_ = {"p": 0.1, "q": 0.8, "gamma": 10.0}  # q <= 1: no finite mean while p x + q <= 1
    spend = model.predict_spend([0, 1, 10], [0.0, 40.0, 40.0])
    assert spend.tolist()[:2] == [0.0, 40.0] and np.isfinite(spend[2]) and spend[2] > 0
