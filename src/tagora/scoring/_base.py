"""What every estimator of this area shares: input checks, the fitted check, the optimiser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

FloatArray = NDArray[np.float64]
LOG_BOUND = 12.0  # parameters stay within [e^-12, e^12]


def as_vector(name: str, values: ArrayLike, size: int | None = None) -> FloatArray:
    """A finite 1-d float array; a clear ValueError names the argument otherwise."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if size is not None and array.size != size:
        raise ValueError(f"{name} has {array.size} values, expected {size}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def as_weights(weights: ArrayLike | None, size: int) -> FloatArray:
    if weights is None:
        return np.ones(size)
    array = as_vector("weights", weights, size)
    if np.any(array < 0):
        raise ValueError("weights must be non-negative")
    return array


class ParametricModel(BaseEstimator):
    """A model whose ``fit`` maximises a log-likelihood over positive parameters."""

    PARAMS: tuple[str, ...] = ()
    params_: dict[str, float]
    log_likelihood_: float

    def __init__(self, penalizer: float = 0.0, tol: float = 1e-10, max_iter: int = 2000) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.max_iter = max_iter

    def check_fitted(self) -> dict[str, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")
        return self.params_

    def maximise(self, loglik: Callable[[FloatArray], float], start: FloatArray) -> None:
        """Fit on log-parameters (keeps them positive); a small L2 penalty helps sparse data."""

        def objective(log_params: FloatArray) -> float:
            params = np.exp(log_params)
            value = -loglik(params) + self.penalizer * float(np.sum(params**2))
            return value if np.isfinite(value) else 1e300

        # Bounds keep a parameter that runs off to infinity (e.g. b when nobody drops out) finite.
        bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
        result: Any = minimize(
            objective,
            np.log(start),
            method="Nelder-Mead",
            bounds=bounds,
            options={
                "xatol": 1e-10,
                "fatol": self.tol,
                "maxiter": self.max_iter * 4,
                "maxfev": self.max_iter * 8,
            },
        )
        polished: Any = minimize(
            objective, result.x, method="L-BFGS-B", bounds=bounds, options={"ftol": self.tol, "gtol": 1e-9}
        )
        best = polished if polished.fun <= result.fun else result
        params = np.exp(best.x)
        self.params_ = {name: float(v) for name, v in zip(self.PARAMS, params, strict=True)}
        self.log_likelihood_ = float(loglik(params))
        self.n_iter_ = int(result.nit + getattr(polished, "nit", 0))
