"""What other areas may call: the registry and the scores, plus the estimators themselves."""

from tagora.scoring.bgnbd import BetaGeoModel
from tagora.scoring.gamma_gamma import GammaGammaModel
from tagora.scoring.logic import (
    compute_scores,
    list_runs,
    publish_if_due,
    publish_model_tags,
    score_customers,
    show_run,
    train_model,
)
from tagora.scoring.model_tags import MODEL_TAGS
from tagora.scoring.rfm import LABELS_ZH, RFMScorer, Segment
from tagora.scoring.schemas import ModelRunPublic

__all__ = [
    "LABELS_ZH",
    "MODEL_TAGS",
    "BetaGeoModel",
    "GammaGammaModel",
    "ModelRunPublic",
    "RFMScorer",
    "Segment",
    "compute_scores",
    "list_runs",
    "publish_if_due",
    "publish_model_tags",
    "score_customers",
    "show_run",
    "train_model",
]
