"""What every estimator of this area shares: input checks, the fitted check, the optimiser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
# A log-likelihood and its gradient with respect to the (positive) parameters.
LogLik = Callable[[FloatArray], tuple[float, FloatArray]]
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


def distinct(values: NDArray[Any]) -> tuple[FloatArray, IntArray]:
    """The distinct values and, per element, the index of its value: costly functions of a column that
    takes few values (purchase counts, whole-day ages) are computed once per value, not once per customer.
    """
    codes, unique = pd.factorize(values, sort=True)  # hashing: faster than np.unique's sort
    return np.asarray(unique, dtype=np.float64), codes.astype(np.intp)


class ParametricModel(BaseEstimator):
    """A model whose ``fit`` maximises a log-likelihood over positive parameters."""

    PARAMS: tuple[str, ...] = ()
    params_: dict[str, float]
    log_likelihood_: float

    def __init__(self, penalizer: float = 0.0, tol: float = 1e-12, max_iter: int = 2000) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.max_iter = max_iter

    def check_fitted(self) -> dict[str, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")
        return self.params_

    def maximise(self, loglik: LogLik, start: FloatArray) -> None:
        """Quasi-Newton on log-parameters (keeps them positive) with the analytic gradient.

        A small optional L2 penalty helps sparse data. Nelder-Mead takes over if L-BFGS-B fails (it needs
        only values), which keeps odd data sets fittable.
        """
        scale = max(abs(loglik(start)[0]), 1.0)  # objective of order 1: tolerances mean the same at any size

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(log_params)
            value, grad = loglik(params)
            penalty = self.penalizer * float(np.sum(params**2))
            total = (-value + penalty) / scale
            gradient = (-grad * params + 2 * self.penalizer * params**2) / scale
            if not np.isfinite(total) or not np.all(np.isfinite(gradient)):
                return 1e300, np.zeros_like(log_params)
            return total, gradient

        # Bounds keep a parameter that runs off to infinity (e.g. b when nobody drops out) finite.
        bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
        options = {"ftol": self.tol, "gtol": 1e-10, "maxiter": self.max_iter}
        result: Any = minimize(
            objective, np.log(start), jac=True, method="L-BFGS-B", bounds=bounds, options=options
        )
        if not result.success:
            result = minimize(
                lambda v: objective(v)[0], result.x, method="Nelder-Mead", bounds=bounds,
                options={"xatol": 1e-10, "fatol": self.tol, "maxiter": self.max_iter * 4},
            )  # fmt: skip
        params = np.exp(result.x)
        self.params_ = {name: float(v) for name, v in zip(self.PARAMS, params, strict=True)}
        self.log_likelihood_ = float(loglik(params)[0])
        self.n_iter_ = int(result.nit)
