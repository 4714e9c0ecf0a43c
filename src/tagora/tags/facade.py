"""What other areas may call: compute tags (all or some uids), read a customer's tags, the catalogue."""

from tagora.tags.library import install_library
from tagora.tags.logic import install_definitions, validate_draft
from tagora.tags.queries import current_values, customer_tags, live_value_types, tag_history, values_version
from tagora.tags.runs import compute_tags, last_full_run
from tagora.tags.schemas import TagPublic, TagValuePublic
from tagora.tags.store import write_values

__all__ = [
    "TagPublic",
    "TagValuePublic",
    "compute_tags",
    "current_values",
    "customer_tags",
    "install_definitions",  # other areas' own tags (e.g. scoring's model tags), installed published
    "install_library",
    "last_full_run",
    "live_value_types",
    "tag_history",
    "validate_draft",
    "values_version",
    "write_values",  # values that do not come from a run (model tags)
]
