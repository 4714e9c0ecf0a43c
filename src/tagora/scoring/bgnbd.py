"""BG/NBD (Fader, Hardie & Lee 2005): repeat purchases and the probability a customer is still alive.

``frequency`` x is the number of repeat purchases, ``recency`` t_x the age of the customer at the last
purchase and ``T`` the age at the end of the observation period, all in one time unit (days or weeks).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, gammaln, hyp2f1

from tagora.scoring._base import FloatArray, ParametricModel, as_vector, as_weights


def bgnbd_loglik(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> float:
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.full_like(x, -np.inf)
    a4[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    return float(np.sum(w * (a1 + a2 + np.logaddexp(a3, a4))))


class BetaGeoModel(ParametricModel):
    """``fit(frequency, recency, T, weights=None)`` learns ``params_`` r, alpha, a, b by max. likelihood."""

    PARAMS = ("r", "alpha", "a", "b")

    def fit(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
    ) -> BetaGeoModel:
        x, t_x, big_t = self._inputs(frequency, recency, T)
        w = as_weights(weights, x.size)
        if x.size == 0 or w.sum() == 0:
            raise ValueError("fit needs at least one customer")
        scale = max(float(np.average(big_t, weights=w)), 1e-9)
        start = np.array([1.0, scale, 1.0, 1.0])
        self.maximise(lambda p: bgnbd_loglik(p, x, t_x, big_t, w), start)
        return self

    @staticmethod
    def _inputs(
        frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        x = as_vector("frequency", frequency)
        t_x = as_vector("recency", recency, x.size)
        big_t = as_vector("T", T, x.size)
        if np.any(x < 0) or np.any(t_x < 0):
            raise ValueError("frequency and recency must be non-negative")
        if np.any(t_x > big_t + 1e-9):
            raise ValueError("recency must not exceed T")
        return x, t_x, big_t

    def _odds_dead(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        p = self.check_fitted()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        odds = np.zeros_like(x)
        repeat = x > 0
        xr = x[repeat]
        log_ratio = (r + xr) * (np.log(alpha + big_t[repeat]) - np.log(alpha + t_x[repeat]))
        odds[repeat] = a / (b + xr - 1) * np.exp(log_ratio)
        return odds

    def predict_proba_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        x, t_x, big_t = self._inputs(frequency, recency, T)
        return 1.0 / (1.0 + self._odds_dead(x, t_x, big_t))

    def predict_purchases(
        self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected number of purchases in the next ``t`` time units (eq. 10 of the paper)."""
        x, t_x, big_t = self._inputs(frequency, recency, T)
        p = self.params_
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        # Euler's transformation of eq. 10's 2F1 (c - b = a - 1): (1 - z)^(r+x) 2F1(r+x, b+x; c; z) equals
        # 2F1(r+x, a-1; c; -t/(alpha+T)), which stays finite when b is huge (almost no dropout).
        c = a + b + x - 1
        hyp = hyp2f1(r + x, a - 1, c, -t / (alpha + big_t))
        head = c / (a - 1) * (1 - hyp)
        return np.asarray(head / (1 + self._odds_dead(x, t_x, big_t)), dtype=np.float64)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """E[X(t)] for a customer just acquired: expected repeat purchases within ``t`` units."""
        p = self.check_fitted()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        tt = as_vector("t", t)
        hyp = hyp2f1(r, b, a + b - 1, tt / (alpha + tt))
        return np.asarray((a + b - 1) / (a - 1) * (1 - (alpha / (alpha + tt)) ** r * hyp), dtype=np.float64)

    def predict_next_purchase(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Median time (after T) to the next purchase for a customer still alive.

        Dropout happens only right after a purchase, so an alive customer surely buys again; the wait is
        exponential with a rate whose posterior is Gamma(r + x, alpha + T): a Lomax with that shape and scale.
        Read it together with ``predict_proba_alive``.
        """
        x, _, big_t = self._inputs(frequency, recency, T)
        p = self.check_fitted()
        return np.asarray((p["alpha"] + big_t) * (2.0 ** (1.0 / (p["r"] + x)) - 1.0), dtype=np.float64)
