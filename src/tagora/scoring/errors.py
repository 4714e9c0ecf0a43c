"""Error codes of the scoring area."""

from __future__ import annotations

from enum import StrEnum


class ScoringErrorCode(StrEnum):
    UNKNOWN_MODEL = "scoring_unknown_model"
    NOT_ENOUGH_DATA = "scoring_not_enough_data"
    BAD_OUTPUT = "scoring_bad_output"
    BAD_PARAMETER = "scoring_bad_parameter"
