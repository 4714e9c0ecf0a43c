"""What other areas may call: link identities, resolve records into people, read the graph."""

from tagora.identity.logic import (
    ResolveReport,
    current_people,
    link_identities,
    merge_profiles,
    repair_facts,
    resolve_profiles,
    unmerge_profile,
    view_identity_graph,
)
from tagora.identity.queries import count_identities, identities_of, people_for

__all__ = [
    "ResolveReport",
    "count_identities",
    "current_people",
    "identities_of",
    "link_identities",
    "merge_profiles",
    "people_for",
    "repair_facts",
    "resolve_profiles",
    "unmerge_profile",
    "view_identity_graph",
]
