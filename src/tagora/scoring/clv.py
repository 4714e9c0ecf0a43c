"""Customer lifetime value: BG/NBD expected purchases per period x Gamma-Gamma spend, discounted."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from tagora.scoring._base import FloatArray
from tagora.scoring.bgnbd import BetaGeoModel
from tagora.scoring.gamma_gamma import GammaGammaModel


def customer_lifetime_value(
    transactions: BetaGeoModel,
    spend: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    horizon_days: float,
    annual_discount_rate: float = 0.0,
    unit_days: float = 1.0,
    period_days: float = 30.0,
) -> FloatArray:
    """Discounted expected value of the purchases in the next ``horizon_days``.

    The horizon is cut into periods of ``period_days`` (the last one may be shorter); the purchases expected
    in period k are discounted by (1 + annual rate) ** (end of period k in years).
    """
    if horizon_days < 0 or period_days <= 0 or unit_days <= 0:
        raise ValueError("horizon_days must be >= 0, period_days and unit_days > 0")
    if annual_discount_rate <= -1:
        raise ValueError("annual_discount_rate must be greater than -1")
    value = spend.predict_spend(frequency, monetary_value)
    if horizon_days == 0:
        return np.zeros_like(value)
    ends = np.append(np.arange(period_days, horizon_days, period_days), horizon_days).astype(np.float64)
    discount = (1 + annual_discount_rate) ** (ends / 365.0)
    purchases = transactions.predict_discounted_purchases(ends / unit_days, discount, frequency, recency, T)
    return np.asarray(purchases * value, dtype=np.float64)
