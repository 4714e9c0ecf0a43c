"""Error codes of the tags area."""

from __future__ import annotations

from enum import StrEnum


class TagErrorCode(StrEnum):
    INVALID_DEFINITION = "tag_invalid_definition"
    INVALID_RULE = "tag_invalid_rule"
    UNKNOWN_CATEGORY = "tag_unknown_category"
    DUPLICATE_CODE = "tag_duplicate_code"
    BAD_TRANSITION = "tag_bad_transition"
    NOT_LIVE = "tag_not_live"
    IN_USE = "tag_in_use"
    CYCLE = "tag_dependency_cycle"
    NOT_ALLOWED = "tag_not_allowed"
    BAD_VALUE = "tag_bad_value"
