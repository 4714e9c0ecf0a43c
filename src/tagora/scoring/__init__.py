"""Customer value and prediction models: RFM, BG/NBD + Gamma-Gamma CLV, churn, clusters.

The models load on first use of their name (PEP 562), so that importing any ``tagora.scoring`` module (the
CLI's, say) does not load SciPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tagora.scoring.bgnbd import BetaGeoModel
    from tagora.scoring.clv import customer_lifetime_value
    from tagora.scoring.gamma_gamma import GammaGammaModel
    from tagora.scoring.summary import summarize_purchases

_HOMES = {
    "BetaGeoModel": "tagora.scoring.bgnbd",
    "GammaGammaModel": "tagora.scoring.gamma_gamma",
    "customer_lifetime_value": "tagora.scoring.clv",
    "summarize_purchases": "tagora.scoring.summary",
}
__all__ = ["BetaGeoModel", "GammaGammaModel", "customer_lifetime_value", "summarize_purchases"]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
