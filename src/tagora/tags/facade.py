"""What other areas may call: compute tags (all or some uids), read a customer's tags, the catalogue."""

from tagora.tags.library import install_library
from tagora.tags.queries import current_values, customer_tags, live_value_types, tag_history, values_version
from tagora.tags.runs import compute_tags, last_full_run
from tagora.tags.schemas import TagPublic, TagValuePublic

__all__ = [
    "TagPublic",
    "TagValuePublic",
    "compute_tags",
    "current_values",
    "customer_tags",
    "install_library",
    "last_full_run",
    "live_value_types",
    "tag_history",
    "values_version",
]
