"""Pure identity resolution: which records of one connected component are the same person.

The answer depends only on the records, their identities, the separations and the rules — never on the
order they arrived in — so resolving again is a no-op and importing A then B equals B then A:
links are tried strongest first (priority, then type and value), records in key order, and a link is
refused when the joined person would hold two values of a unique type or two separated records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from tagora.identity.rules import ALIAS, MANUAL, IdentityRules

LINKS = (MANUAL, ALIAS)  # links between records say nothing about which record knows the person best


@dataclass(frozen=True)
class Ident:
    origin: int  # the record holding it
    type: str
    value: str
    source: str = ""


@dataclass(frozen=True)
class Conflict:
    type: str
    value: str
    uid_a: int
    uid_b: int
    reason: str


@dataclass
class Partition:
    canonical: dict[int, int]  # record -> surviving record of its person
    evidence: dict[int, tuple[str, str]]  # merged record -> (type, value) that ties it to the others
    conflicts: list[Conflict] = field(default_factory=list)


@dataclass
class _Group:
    members: set[int]
    unique: dict[tuple[str, str], set[str]]  # (type, scope) -> values


def _compatible(a: _Group, b: _Group) -> tuple[str, str] | None:
    """The unique (type, scope) on which the two groups disagree, if any."""
    for key in a.unique.keys() & b.unique.keys():
        va, vb = a.unique[key], b.unique[key]
        if not (va <= vb or vb <= va):
            return key
    return None


def resolve(
    records: dict[int, str],
    identities: list[Ident],
    separations: set[frozenset[int]],
    rules: IdentityRules,
) -> Partition:
    """``records`` maps each record of the component to its key (the deterministic tie-breaker)."""
    groups: dict[int, _Group] = {r: _Group({r}, defaultdict(set)) for r in records}
    root = {r: r for r in records}
    best: dict[int, tuple[int, str]] = {r: (0, "") for r in records}
    held = dict.fromkeys(records, 0)
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for i in identities:
        if i.origin not in records:
            continue
        spec = rules.types.get(i.type)
        if spec is None:
            continue
        holders[(i.type, i.value)].add(i.origin)
        if spec.unique != "none":
            groups[i.origin].unique[(i.type, i.source if spec.unique == "source" else "")].add(i.value)
        if i.type not in LINKS:
            held[i.origin] += 1
            best[i.origin] = max(best[i.origin], (spec.priority, i.type))

    def find(r: int) -> int:
        while root[r] != r:
            root[r] = root[root[r]]
            r = root[r]
        return r

    conflicts: list[Conflict] = []
    edges = [
        (t, v, sorted(h, key=lambda r: records[r]))
        for (t, v), h in holders.items()
        if len(h) > 1 and rules.types[t].merge
    ]
    edges.sort(key=lambda e: (-rules.types[e[0]].priority, e[0], e[1]))
    for kind, value, members in edges:
        if len(members) > rules.max_shared:
            conflicts.append(Conflict(kind, value, members[0], members[1], "too_common"))
            continue
        first = members[0]
        for other in members[1:]:
            a, b = find(first), find(other)
            if a == b:
                continue
            ga, gb = groups[a], groups[b]
            if any(frozenset((x, y)) in separations for x in ga.members for y in gb.members):
                continue  # staff said these are different people; that is not a conflict to review
            clash = _compatible(ga, gb)
            if clash is not None:
                conflicts.append(Conflict(kind, value, first, other, ":".join(p for p in clash if p)))
                continue
            root[b] = a
            ga.members |= gb.members
            for key, values in gb.unique.items():
                ga.unique[key] |= values
            del groups[b]

    canonical: dict[int, int] = {}
    evidence: dict[int, tuple[str, str]] = {}
    links: dict[int, list[tuple[str, str, list[int]]]] = defaultdict(list)
    for kind, value, members in edges:  # strongest first, so each record's first usable link wins
        if len(members) <= rules.max_shared:
            for r in members:
                links[r].append((kind, value, members))
    for group in groups.values():
        # The record that knows the person best survives: strongest identity, then most identities.
        survivor = min(group.members, key=lambda r: (-best[r][0], -held[r], records[r]))
        for r in group.members:
            canonical[r] = survivor
            if r != survivor:
                kind, value, _ = next(e for e in links[r] if any(m != r and m in group.members for m in e[2]))
                evidence[r] = (kind, value)
    return Partition(canonical, evidence, conflicts)
