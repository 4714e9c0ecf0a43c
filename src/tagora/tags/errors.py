"""Error codes of the tags area."""

from __future__ import annotations

from tagora.core.errors import ErrorCode


class TagErrorCode(ErrorCode):
    INVALID_DEFINITION = "tag_invalid_definition", 422
    INVALID_RULE = "tag_invalid_rule", 422
    UNKNOWN_CATEGORY = "tag_unknown_category", 422
    DUPLICATE_CODE = "tag_duplicate_code", 409
    BAD_TRANSITION = "tag_bad_transition", 409
    NOT_LIVE = "tag_not_live", 409
    IN_USE = "tag_in_use", 409
    CYCLE = "tag_dependency_cycle", 422
    NOT_ALLOWED = "tag_not_allowed", 403
    BAD_VALUE = "tag_bad_value", 422
    NOT_MANUAL = "tag_not_manual", 409  # a value put by hand on a tag that rules or models compute
