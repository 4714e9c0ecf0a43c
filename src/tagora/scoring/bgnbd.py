"""BG/NBD (Fader, Hardie & Lee 2005): repeat purchases and the probability a customer is still alive.

``frequency`` x is the number of repeat purchases, ``recency`` t_x the age of the customer at the last
purchase and ``T`` the age at the end of the observation period, all in one time unit (days or weeks).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, expit, gammaln, hyp2f1, roots_legendre
from scipy.stats import beta as beta_dist

from tagora.scoring._base import FloatArray, IntArray, ParametricModel, as_vector, as_weights, distinct


class BgNbdData:
    """The fit's data, arranged so each likelihood evaluation costs little.

    Terms in x alone are summed per distinct x, terms in T alone per distinct T (with the summed weights);
    logs of alpha + t_x are taken once per distinct age (ages are whole days or weeks, so there are few).
    Only repeat buyers, who may have dropped out after their last purchase, need per-row work.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray) -> None:
        keep = w > 0
        x, t_x, big_t, w = x[keep], t_x[keep], big_t[keep], w[keep]
        self.ux, ix = distinct(x)
        self.wx = np.bincount(ix, weights=w, minlength=self.ux.size)
        self.uT, iT = distinct(big_t)
        self.wT = np.bincount(iT, weights=w, minlength=self.uT.size)
        self.wxT = np.bincount(iT, weights=w * x, minlength=self.uT.size)
        rep = x > 0
        self.ut, self.it = distinct(t_x[rep])
        self.uxr, self.ixr = distinct(x[rep])
        self.xr, self.wr, self.iTr = x[rep], w[rep], iT[rep]
        self.w_sum = float(w.sum())


def bgnbd_loglik(params: FloatArray, d: BgNbdData) -> tuple[float, FloatArray]:
    """The BG/NBD log-likelihood (eq. 6 of the paper) and its gradient in (r, alpha, a, b).

    Per customer: A1 + A2 + ln(e^A3 + [x > 0] e^A4) = A1 + A2 + A3 + [x > 0] softplus(A4 - A3).
    """
    r, alpha, a, b = params
    ux, wx = d.ux, d.wx
    # A1 + A2 = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x) - ln B(a, b): per distinct x.
    head = gammaln(r + ux) - gammaln(r) + gammaln(b + ux) - gammaln(b) + gammaln(a + b) - gammaln(a + b + ux)
    value = float(wx @ head) + d.w_sum * r * np.log(alpha)
    g_r = float(wx @ (digamma(r + ux) - digamma(r))) + d.w_sum * np.log(alpha)
    g_alpha = d.w_sum * r / alpha
    psi_ab = digamma(a + b) - digamma(a + b + ux)
    g_a = float(wx @ psi_ab)
    g_b = float(wx @ (digamma(b + ux) - digamma(b) + psi_ab))
    # A3 = -(r+x) ln(alpha+T): per distinct T.
    log_big_t = np.log(alpha + d.uT)
    value -= float((r * d.wT + d.wxT) @ log_big_t)
    g_r -= float(d.wT @ log_big_t)
    g_alpha -= float((r * d.wT + d.wxT) @ (1 / (alpha + d.uT)))
    if d.xr.size:
        # z = A4 - A3 = ln a - ln(b+x-1) + (r+x) (ln(alpha+T) - ln(alpha+t_x)); the share of the
        # dropped-out term is expit(z), which is also d softplus(z) / dz.
        gap = log_big_t[d.iTr] - np.log(alpha + d.ut)[d.it]
        z = (np.log(a) - np.log(b + d.uxr - 1))[d.ixr] + (r + d.xr) * gap
        value += float(d.wr @ np.logaddexp(0.0, z))
        share = d.wr * expit(z)
        g_r += float(share @ gap)
        g_alpha += float(share @ ((r + d.xr) * (1 / (alpha + d.uT)[d.iTr] - 1 / (alpha + d.ut)[d.it])))
        per_x = np.bincount(d.ixr, weights=share, minlength=d.uxr.size)
        g_a += float(per_x.sum()) / a
        g_b -= float(per_x @ (1 / (b + d.uxr - 1)))
    return value, np.array([g_r, g_alpha, g_a, g_b])


_NODES, _WEIGHTS = roots_legendre(96)


def alive_purchases_by_quadrature(
    p: dict[str, float], t: float, x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """E[purchases in t | alive] by integrating over the dropout probability, for where 2F1 fails.

    Given alive, lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x); for fixed p the expectation is
    E[(1 - exp(-lambda p t)) / p] = (1 - ((alpha+T) / (alpha+T+p t))^(r+x)) / p. scipy's 2F1 gives NaN when
    a and b are both large (dropout probability known almost exactly); then the Beta is narrow and smooth,
    so Gauss-Legendre over its central mass is accurate.
    """
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    lo = beta_dist.ppf(1e-12, a, b + x)[:, None]
    hi = beta_dist.ppf(1 - 1e-12, a, b + x)[:, None]
    q = lo + (hi - lo) * (_NODES[None, :] + 1) / 2
    density = beta_dist.pdf(q, a, (b + x)[:, None]) * _WEIGHTS[None, :]
    wait = -np.expm1(-(r + x)[:, None] * np.log1p(q * t / (alpha + big_t)[:, None])) / q
    return np.asarray((density * wait).sum(axis=1) / density.sum(axis=1), dtype=np.float64)


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
        data = BgNbdData(x, t_x, big_t, w)
        self.maximise(lambda p: bgnbd_loglik(p, data), start)
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
        return self._alive(x, t_x, big_t)

    def predict_purchases(
        self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected number of purchases in the next ``t`` time units (eq. 10 of the paper)."""
        return self.predict_cumulative_purchases([t], frequency, recency, T)[0]

    def predict_cumulative_purchases(
        self, ts: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected purchases within each horizon of ``ts``: a (len(ts), n) array."""
        x, t_x, big_t = self._inputs(frequency, recency, T)
        curve, index = self._curve(as_vector("ts", ts), x, big_t)
        return np.asarray(curve[:, index] * self._alive(x, t_x, big_t), dtype=np.float64)

    def predict_discounted_purchases(
        self, ends: ArrayLike, discounts: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Sum over periods ending at ``ends`` of the purchases expected in the period / its discount.

        Summed per distinct (x, T) before spreading to customers: no (periods x customers) array.
        """
        x, t_x, big_t = self._inputs(frequency, recency, T)
        horizons = as_vector("ends", ends)
        curve, index = self._curve(horizons, x, big_t)
        per_period = np.diff(curve, axis=0, prepend=0.0)
        summed = (per_period / as_vector("discounts", discounts, horizons.size)[:, None]).sum(axis=0)
        return np.asarray(summed[index] * self._alive(x, t_x, big_t), dtype=np.float64)

    def _alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        return 1.0 / (1.0 + self._odds_dead(x, t_x, big_t))

    def _curve(self, ts: FloatArray, x: FloatArray, big_t: FloatArray) -> tuple[FloatArray, IntArray]:
        """Purchases expected by an alive customer within each of ``ts``, per distinct (x, T) pair, and
        each customer's pair: the hypergeometric term depends on x and T only.
        """
        p = self.check_fitted()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        (vx, ix), (vT, iT) = distinct(x), distinct(big_t)
        keys, index = distinct(ix * vT.size + iT)
        pair = keys.astype(np.intp)
        ux, uT = vx[pair // vT.size], vT[pair % vT.size]
        c = a + b + ux - 1
        curve = np.empty((ts.size, ux.size))
        for k, t in enumerate(ts):
            # Euler's transformation of eq. 10's 2F1 (c - b = a - 1): (1 - z)^(r+x) 2F1(r+x, b+x; c; z)
            # equals 2F1(r+x, a-1; c; -t/(alpha+T)), which stays finite when b is huge (almost no dropout).
            curve[k] = c / (a - 1) * (1 - hyp2f1(r + ux, a - 1, c, -t / (alpha + uT)))
            bad = ~np.isfinite(curve[k]) | (curve[k] < 0)
            if np.any(bad):
                curve[k, bad] = alive_purchases_by_quadrature(p, t, ux[bad], uT[bad])
        return curve, index

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
