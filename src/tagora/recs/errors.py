"""Error codes of the recommendations area."""

from __future__ import annotations

from tagora.core.errors import ErrorCode


class RecsErrorCode(ErrorCode):
    UNKNOWN_ALGORITHM = "recs_unknown_algorithm", 422
    NOTHING_TO_LEARN = "recs_nothing_to_learn", 409
    UNKNOWN_PRODUCT = "recs_unknown_product", 404
    BAD_DATASET = "recs_bad_dataset", 422
