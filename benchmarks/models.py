"""Customer value and churn models at scale: BG/NBD + Gamma-Gamma fit, scoring, churn training.

python benchmarks/models.py [--scale small|full] [--customers N]

Full scale: 1M synthetic customers drawn from the BG/NBD and Gamma-Gamma processes themselves (acquired
over two years, ages in whole days), so the fit also shows it recovers the true parameters. Targets
(issue 6): fit <= 5 s (identical (frequency, recency, T) rows fitted once with a weight), scoring <= 2 s,
churn training <= 3 min. Baseline in the same run: the BG/NBD fit on every customer's own row (no
weights). At another size the ``*_1m_s`` figures are linear extrapolations (fixed costs make them
pessimistic at ``--scale small``, which is a smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from tagora.scoring import BetaGeoModel, GammaGammaModel, customer_lifetime_value
from tagora.scoring.churn import ChurnModel, binary_metrics, risk_level
from tagora.scoring.rfm import RFMScorer

TRUE_BGNBD = {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.5}  # days
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 40.0}
HORIZON_DAYS = 90
ACQUISITION_DAYS = 730
T_ = TypeVar("T_")


@dataclass
class Customers:
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary: np.ndarray
    future: np.ndarray  # purchase days in the HORIZON_DAYS after the end: the churn label's truth


def simulate(n: int, seed: int) -> Customers:
    """Purchases as BG/NBD says: Poisson while alive, dropout with probability p after each purchase."""
    rng = np.random.default_rng(seed)
    p = TRUE_BGNBD
    big_t = rng.integers(1, ACQUISITION_DAYS + 1, n).astype(np.float64)
    rate = rng.gamma(p["r"], 1 / p["alpha"], n)
    drop = rng.beta(p["a"], p["b"], n)
    x, last, clock = np.zeros(n), np.zeros(n), np.zeros(n)
    alive, active = np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    future = np.zeros(n)
    end = big_t + HORIZON_DAYS
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1 / np.maximum(rate[idx], 1e-12))
        in_window = clock[idx] <= end[idx]
        active[idx[~in_window]] = False
        buy = idx[in_window]
        observed = clock[buy] <= big_t[buy]
        x[buy[observed]] += 1
        last[buy[observed]] = clock[buy[observed]]
        future[buy[~observed]] += 1
        died = buy[rng.uniform(size=buy.size) < drop[buy]]
        alive[died] = False
        active[died] = False
    # Spend per purchase: Gamma(p, nu) with nu ~ Gamma(q, gamma); the mean of x draws is Gamma(p x, nu x).
    g = TRUE_GG
    nu = rng.gamma(g["q"], 1 / g["gamma"], n)
    monetary = np.where(x > 0, rng.gamma(g["p"] * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1))), 0.0)
    return Customers(x, np.floor(last), big_t, monetary, future)


CPU_S: dict[str, float] = {}  # CPU seconds of this process per step: wall time on a busy machine lies


def timed(what: Callable[[], T_], step: str = "") -> tuple[T_, float]:
    started, cpu = time.perf_counter(), time.process_time()
    out = what()
    if step:
        CPU_S[step] = time.process_time() - cpu
    return out, time.perf_counter() - started


def fit_value(c: Customers) -> tuple[BetaGeoModel, GammaGammaModel]:
    rows = pd.DataFrame({"f": c.frequency, "r": c.recency, "t": c.T})
    grouped = rows.groupby(["f", "r", "t"], as_index=False, sort=False).size()
    bg = BetaGeoModel().fit(grouped["f"], grouped["r"], grouped["t"], weights=grouped["size"])
    gg = GammaGammaModel().fit(c.frequency, c.monetary)
    return bg, gg


def score(c: Customers, bg: BetaGeoModel, gg: GammaGammaModel) -> pd.DataFrame:
    args = (c.frequency, c.recency, c.T)
    rfm = RFMScorer().fit(c.T - c.recency, c.frequency, c.monetary)
    rfm_scores = rfm.transform(c.T - c.recency, c.frequency, c.monetary)
    return pd.DataFrame(
        {
            "p_alive": bg.predict_proba_alive(*args),
            "expected_purchases": bg.predict_purchases(HORIZON_DAYS, *args),
            "clv_12m": customer_lifetime_value(
                bg, gg, *args, c.monetary, horizon_days=365, annual_discount_rate=0.1
            ),
            "rfm_segment": rfm.segments(rfm_scores),
        }
    )


def churn_features(c: Customers, seed: int) -> pd.DataFrame:
    """The behaviour features of the warehouse pipeline that this simulation can give, plus noise."""
    rng = np.random.default_rng(seed + 1)
    frame = pd.DataFrame(
        {
            "recency_days": c.T - c.recency,
            "tenure_days": c.T,
            "purchase_days": c.frequency + 1,
            "monetary": c.monetary * (c.frequency + 1),
            "avg_order_value": np.where(c.frequency > 0, c.monetary, rng.gamma(6, 10, c.T.size)),
            "days_between_purchases": np.where(c.frequency > 0, c.recency / np.maximum(c.frequency, 1), c.T),
        }
    )
    for k in range(14):  # uninformative columns: the real feature set is about 20 wide
        frame[f"noise_{k}"] = rng.normal(size=c.T.size)
    return frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=["small", "full"], default="full")
    parser.add_argument("--customers", type=int)
    args = parser.parse_args()
    n = args.customers or (1_000_000 if args.scale == "full" else 20_000)
    per_million = 1_000_000 / n

    customers, sim_s = timed(lambda: simulate(n, seed=7))
    repeaters = int((customers.frequency > 0).sum())
    print(f"{n:,} customers simulated in {sim_s:.1f} s ({repeaters:,} with a repeat purchase)")

    (bg, gg), fit_s = timed(lambda: fit_value(customers), "fit")
    print(f"BG/NBD + Gamma-Gamma fit (identical rows weighted): {fit_s:.2f} s ({CPU_S['fit']:.2f} s CPU)")
    print("  BG/NBD", {k: round(v, 3) for k, v in bg.params_.items()}, "true", TRUE_BGNBD)
    print("  Gamma-Gamma", {k: round(v, 3) for k, v in gg.params_.items()}, "true", TRUE_GG)
    plain, plain_s = timed(lambda: BetaGeoModel().fit(customers.frequency, customers.recency, customers.T))
    same = all(np.isclose(plain.params_[k], bg.params_[k], rtol=1e-4) for k in bg.params_)
    print(f"baseline: BG/NBD fit on every customer's own row: {plain_s:.2f} s (same estimates: {same})")

    scores, score_s = timed(lambda: score(customers, bg, gg), "score")
    predicted, actual = scores["expected_purchases"].sum(), customers.future.sum()
    print(
        f"scoring (P(alive), expected purchases, 12-month CLV, RFM segment): {score_s:.2f} s"
        f" ({CPU_S['score']:.2f} s CPU)"
    )
    print(f"  expected purchases in {HORIZON_DAYS} days: {predicted:,.0f} predicted, {actual:,.0f} simulated")

    X = churn_features(customers, seed=7)
    y = (customers.future == 0).astype(int)
    train = np.arange(n) % 5 != 0
    model, churn_s = timed(lambda: ChurnModel(random_state=0).fit(X[train], y[train]), "churn")
    churn_s *= n / int(train.sum())  # reported per customer count, like the others
    CPU_S["churn"] *= n / int(train.sum())
    probability = model.churn_probability(X[~train])
    metrics = binary_metrics(y[~train], probability)
    levels = pd.Series(risk_level(probability)).value_counts().to_dict()
    print(f"churn training ({int(train.sum()):,} customers, scaled to {n:,}): {churn_s:.1f} s")
    print(f"  held-out AUC {metrics.auc:.3f}, churn rate {metrics.base_rate:.3f}, risk levels {levels}")

    figures: dict[str, Any] = {
        "customers": n,
        "extrapolated_to_1m": n != 1_000_000,  # small scale: linear extrapolation, a smoke test only
        "bgnbd_gg_fit_1m_s": round(fit_s * per_million, 3),
        "score_1m_s": round(score_s * per_million, 3),
        "churn_train_1m_s": round(churn_s * per_million, 2),
        "baseline_bgnbd_unweighted_fit_1m_s": round(plain_s * per_million, 3),
        "fit_cpu_s": round(CPU_S["fit"], 3),
        "score_cpu_s": round(CPU_S["score"], 3),
        "churn_train_cpu_s": round(CPU_S["churn"], 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "measured_fit_s": round(fit_s, 3),
        "measured_score_s": round(score_s, 3),
        "measured_churn_train_s": round(churn_s, 2),
        "bgnbd_params": {k: round(v, 4) for k, v in bg.params_.items()},
        "gamma_gamma_params": {k: round(v, 4) for k, v in gg.params_.items()},
        "churn_holdout_auc": round(metrics.auc, 4),
        "expected_vs_simulated_purchases": [round(float(predicted), 1), float(actual)],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
