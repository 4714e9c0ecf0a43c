"""What other areas may call: link identities, resolve records into people, read the graph."""

from tagora.identity.logic import (
    ResolveReport,
    current_people,
    link_identities,
    merge_profiles,
    reindex_identities,
    repair_facts,
    resolve_profiles,
    unmerge_profile,
    view_identity_graph,
)
from tagora.identity.personal import key_of, people_known_by
from tagora.identity.queries import count_identities, identities_of, people_for
from tagora.identity.rules import PERSONAL_TYPES

__all__ = [
    "PERSONAL_TYPES",
    "ResolveReport",
    "count_identities",
    "current_people",
    "identities_of",
    "key_of",
    "link_identities",
    "merge_profiles",
    "people_for",
    "people_known_by",
    "reindex_identities",
    "repair_facts",
    "resolve_profiles",
    "unmerge_profile",
    "view_identity_graph",
]
