"""Error codes of the scoring area."""

from __future__ import annotations

from tagora.core.errors import ErrorCode


class ScoringErrorCode(ErrorCode):
    UNKNOWN_MODEL = "scoring_unknown_model", 404
    NOT_ENOUGH_DATA = "scoring_not_enough_data", 422
    BAD_OUTPUT = "scoring_bad_output", 422
    BAD_PARAMETER = "scoring_bad_parameter", 422
