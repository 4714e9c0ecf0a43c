"""What other areas may call: compute tags (all or some uids), read a customer's tags, the catalogue,
and the console's reads (search, versions, lifecycle, evaluation, rule checks and previews)."""

from tagora.tags.catalogue import categories, current, lifecycle_history, pending, search, versions
from tagora.tags.evaluation import SegmentUsers, evaluate_tag, value_report
from tagora.tags.library import install_library
from tagora.tags.logic import install_definitions, validate_draft
from tagora.tags.preview import check_rule, preview_tag
from tagora.tags.queries import current_values, customer_tags, live_value_types, tag_history, values_version
from tagora.tags.retention import prune_history
from tagora.tags.rules import RuleError, rule_json
from tagora.tags.runs import compute_tags
from tagora.tags.schemas import TagPublic, TagValuePublic
from tagora.tags.store import write_values

__all__ = [
    "RuleError",
    "SegmentUsers",
    "TagPublic",
    "TagValuePublic",
    "categories",
    "check_rule",
    "compute_tags",
    "current",
    "current_values",
    "customer_tags",
    "evaluate_tag",
    "install_definitions",  # other areas' own tags (e.g. scoring's model tags), installed published
    "install_library",
    "lifecycle_history",
    "live_value_types",
    "pending",
    "preview_tag",
    "prune_history",
    "rule_json",
    "search",
    "tag_history",
    "validate_draft",
    "value_report",
    "values_version",
    "versions",
    "write_values",  # values that do not come from a run (model tags)
]
