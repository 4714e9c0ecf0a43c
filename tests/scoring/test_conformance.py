"""One conformance test over every estimator of the scoring area: scikit-learn's contract."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from tagora.scoring import BetaGeoModel, GammaGammaModel
from tagora.scoring.churn import ChurnModel
from tagora.scoring.clusters import ClusterModel
from tagora.scoring.propensity import PropensityModel
from tagora.scoring.rfm import RFMScorer
from tagora.scoring.survival import NextPurchaseModel, outcomes

RNG = np.random.default_rng(7)
N = 300
_T = RNG.uniform(20, 40, N)
_X = RNG.poisson(2, N).astype(float)
_TX = np.where(_X > 0, RNG.uniform(0, 1, N) * _T, 0.0)
_M = RNG.gamma(3, 10, N)
_FEATURES = pd.DataFrame({"recency": _T - _TX, "frequency": _X, "monetary": _M})
_CHURNED = (RNG.uniform(0, 1, N) < 1 / (1 + np.exp(0.3 * _X - 0.1 * (_T - _TX)))).astype(int)

# (estimator, fit arguments, a call that needs a fitted estimator)
Case = tuple[BaseEstimator, tuple[Any, ...], Callable[[Any], Any]]
CASES: dict[str, Case] = {
    "BetaGeoModel": (BetaGeoModel(), (_X, _TX, _T), lambda m: m.predict_proba_alive(_X, _TX, _T)),
    "GammaGammaModel": (GammaGammaModel(), (_X, _M), lambda m: m.predict_spend(_X, _M)),
    "RFMScorer": (RFMScorer(), (_T - _TX, _X, _M), lambda m: m.transform(_T - _TX, _X, _M)),
    "ChurnModel": (
        ChurnModel(max_iter=30, min_samples_leaf=10, random_state=None),
        (_FEATURES, _CHURNED),
        lambda m: m.predict_proba(_FEATURES),
    ),
    "PropensityModel": (
        PropensityModel(max_iter=30, min_samples_leaf=10, random_state=None),
        (_FEATURES, 1 - _CHURNED),
        lambda m: m.predict_proba(_FEATURES),
    ),
    "NextPurchaseModel": (
        NextPurchaseModel(),
        (_FEATURES, outcomes(_CHURNED == 0, np.where(_CHURNED == 0, _T - _TX + 1, 90.0))),
        lambda m: m.predict(_FEATURES),
    ),
    "ClusterModel": (
        ClusterModel(k_values=(2, 3, 4), sample_size=200, random_state=None),
        (_FEATURES,),
        lambda m: m.predict(_FEATURES),
    ),
}


def learned(model: BaseEstimator) -> dict[str, Any]:
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, BaseEstimator):  # a fitted inner estimator: its outputs are compared through `use`
        return type(a) is type(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_estimator_follows_the_scikit_learn_contract(name: str) -> None:
    estimator, args, use = CASES[name]
    fresh = clone(estimator)
    # __init__ stores its hyperparameters only, under their own names.
    signature = inspect.signature(type(fresh).__init__)
    assert set(fresh.get_params()) == set(signature.parameters) - {"self"}
    assert learned(fresh) == {}
    with pytest.raises(NotFittedError):
        use(fresh)
    if "random_state" in fresh.get_params():
        fresh.set_params(random_state=0)
    params = fresh.get_params()
    assert fresh.fit(*args) is fresh
    assert learned(fresh) and fresh.get_params() == params, "fit learns attributes ending in _ only"
    again = clone(fresh).fit(*args)
    assert same(learned(fresh), learned(again)), "fitting twice with the same seed must give the same model"
    assert same(use(fresh), use(again))
