"""What other areas may call: the registry and the scores, plus the estimators themselves."""

from tagora.scoring.bgnbd import BetaGeoModel
from tagora.scoring.gamma_gamma import GammaGammaModel
from tagora.scoring.logic import compute_scores, list_runs, score_customers, show_run, train_model
from tagora.scoring.models import MODEL_SCORES
from tagora.scoring.rfm import LABELS_ZH, RFMScorer, Segment

__all__ = [
    "LABELS_ZH",
    "MODEL_SCORES",
    "BetaGeoModel",
    "GammaGammaModel",
    "RFMScorer",
    "Segment",
    "compute_scores",
    "list_runs",
    "score_customers",
    "show_run",
    "train_model",
]
