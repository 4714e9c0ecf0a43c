"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): value per repeat purchase."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln

from tagora.scoring._base import FloatArray, ParametricModel, as_vector, as_weights


def gg_loglik(params: FloatArray, x: FloatArray, m: FloatArray, w: FloatArray) -> float:
    p, q, gamma = params
    px = p * x
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * m)
    )
    return float(np.sum(w * ll))


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
        self.maximise(lambda params: gg_loglik(params, x, m, w), start)
        return self

    def predict_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """Expected average value of a customer's future purchases (population mean when x = 0)."""
        params = self.check_fitted()
        p, q, gamma = params["p"], params["q"], params["gamma"]
        x = as_vector("frequency", frequency)
        m = as_vector("monetary_value", monetary_value, x.size)
        m = np.where(x > 0, m, 0.0)
        return np.asarray((gamma + m * x) * p / (p * x + q - 1), dtype=np.float64)
