"""Error codes of the recommendations area."""

from __future__ import annotations

from enum import StrEnum


class RecsErrorCode(StrEnum):
    UNKNOWN_ALGORITHM = "recs_unknown_algorithm"
    NOTHING_TO_LEARN = "recs_nothing_to_learn"
    UNKNOWN_PRODUCT = "recs_unknown_product"
    BAD_DATASET = "recs_bad_dataset"
