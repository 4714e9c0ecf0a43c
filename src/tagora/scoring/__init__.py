"""Customer value and prediction models: RFM, BG/NBD + Gamma-Gamma CLV, churn, clusters."""

from tagora.scoring.bgnbd import BetaGeoModel
from tagora.scoring.clv import customer_lifetime_value
from tagora.scoring.gamma_gamma import GammaGammaModel
from tagora.scoring.summary import summarize_purchases

__all__ = ["BetaGeoModel", "GammaGammaModel", "customer_lifetime_value", "summarize_purchases"]
