"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): value per repeat purchase."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from tagora.scoring._base import FloatArray, ParametricModel, as_vector, as_weights, distinct


class GammaGammaData:
    """Repeat buyers' (x, m) with the terms that do not change during the fit computed once."""

    def __init__(self, x: FloatArray, m: FloatArray, w: FloatArray) -> None:
        self.ux, ix = distinct(x)
        self.wx = np.bincount(ix, weights=w, minlength=self.ux.size)
        self.x, self.m, self.w = x, m, w
        self.xm = x * m
        self.wx_row = w * x
        self.log_xm_w = float(w @ (x * np.log(self.xm)))  # sum of w px ln(x m) is p times this
        self.log_m_w = float(w @ np.log(m))
        self.w_sum = float(w.sum())


def gg_loglik(params: FloatArray, d: GammaGammaData) -> tuple[float, FloatArray]:
    """Gamma-Gamma log-likelihood of the average repeat spend m over x purchases, and its gradient."""
    p, q, gamma = params
    pux = p * d.ux
    value = float(d.wx @ (gammaln(pux + q) - gammaln(pux))) - d.w_sum * gammaln(q)
    value += d.w_sum * q * np.log(gamma) + p * d.log_xm_w - d.log_m_w
    # The only per-customer work: ln(gamma + x m) and its reciprocal, each dotted with w and w x.
    denominator = gamma + d.xm
    log_den = np.log(denominator)
    inv_den = 1.0 / denominator
    wx_log, w_log = float(d.wx_row @ log_den), float(d.w @ log_den)
    value -= p * wx_log + q * w_log
    psi_sum = digamma(pux + q)
    g_p = float(d.wx @ (d.ux * (psi_sum - digamma(pux)))) + d.log_xm_w - wx_log
    g_q = float(d.wx @ psi_sum) - d.w_sum * digamma(q) + d.w_sum * np.log(gamma) - w_log
    g_gamma = d.w_sum * q / gamma - p * float(d.wx_row @ inv_den) - q * float(d.w @ inv_den)
    return value, np.array([g_p, g_q, g_gamma])


class GammaGammaModel(ParametricModel):
    """``fit(frequency, monetary_value, weights=None)`` learns ``params_`` p, q, gamma.

    Only customers with at least one repeat purchase (frequency > 0) and positive average spend inform the
    fit; the others are ignored, as in the paper.
    """

    PARAMS = ("p", "q", "gamma")

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
    ) -> GammaGammaModel:
        x = as_vector("frequency", frequency)
        m = as_vector("monetary_value", monetary_value, x.size)
        w = as_weights(weights, x.size)
        keep = (x > 0) & (m > 0) & (w > 0)
        if not np.any(keep):
            raise ValueError("fit needs at least one customer with a repeat purchase and positive spend")
        x, m, w = x[keep], m[keep], w[keep]
        self.n_customers_ = float(w.sum())
        start = np.array([1.0, 1.0, float(np.average(m, weights=w))])
        data = GammaGammaData(x, m, w)
        self.maximise(lambda params: gg_loglik(params, data), start)
        return self

    def predict_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """Expected average value of a customer's future purchases (population mean when x = 0).

        When q <= 1 the mean is infinite for customers with few purchases (p x + q <= 1); they get their
        own observed average instead (0 without a repeat purchase) rather than a negative or infinite value.
        """
        params = self.check_fitted()
        p, q, gamma = params["p"], params["q"], params["gamma"]
        x = as_vector("frequency", frequency)
        m = as_vector("monetary_value", monetary_value, x.size)
        m = np.where(x > 0, m, 0.0)
        denominator = p * x + q - 1
        safe = np.where(denominator > 0, denominator, 1.0)
        return np.asarray(np.where(denominator > 0, (gamma + m * x) * p / safe, m), dtype=np.float64)
