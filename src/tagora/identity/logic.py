"""Identity verbs: link identities to records, resolve records into people, merge and unmerge.

Resolution is component-wise: the records reachable from the changed ones through shared identities
are re-partitioned from scratch by the pure ``resolve`` (so the outcome never depends on arrival order),
and only the difference to the current state is written: ``customers.merged_into``, identities,
interactions and merge records in one transaction, then the warehouse facts (``uid`` from
``origin_uid``). A crash between the two leaves merge records marked ``facts_moved = false``, which the
next resolution (or ``repair_facts``) finishes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType

from ibis.backends import BaseBackend
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, aliased

from tagora.core import audit
from tagora.core.auth import Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.db import transaction, upsert
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.stores import PEOPLE_CHANGED, Stores
from tagora.identity import personal, queries
from tagora.identity import resolve as resolver
from tagora.identity.models import Identity, IdentityConflict, IdentityMerge, IdentitySeparation
from tagora.identity.rules import ALIAS, MANUAL, USER_ID, IdentityRules, load_rules, normalize
from tagora.identity.schemas import IdentityGraph

CHUNK = 500
_apply_lock = threading.Lock()  # one resolution writes at a time (the warehouse remap uses a scratch table)


def _profiles() -> ModuleType:
    """The profiles facade, imported when first needed: profiles imports identity at load time."""
    from tagora.profiles import facade

    return facade


@dataclass
class ResolveReport:
    components: int = 0
    merged: int = 0  # records that joined another person
    separated: int = 0  # records that left a person
    conflicts: int = 0
    merge_ids: list[int] = field(default_factory=list)


def rules_of(stores: Stores) -> IdentityRules:
    cached = stores.extras.get("identity_rules")
    if not isinstance(cached, IdentityRules):
        cached = load_rules(stores.settings.identity_rules)
        stores.extras["identity_rules"] = cached
    return cached


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def current_people(session: Session, records: Iterable[int]) -> dict[int, int]:
    """record -> the person (surviving record) it belongs to now; a record without identities is its own."""
    records = sorted(set(records))
    out = {r: r for r in records}
    for chunk in _chunks(records):
        rows = session.execute(
            select(Identity.origin_uid, Identity.uid).where(Identity.origin_uid.in_(chunk)).distinct()
        )
        out.update({origin: uid for origin, uid in rows})
    return out


def link_identities(
    session: Session, links: list[tuple[int, str, str]], source_system: str, region: str = "CN"
) -> None:
    """Attach ``(record uid, type, value)`` identities (normalized) in the caller's transaction.

    Links only: which records are one person is decided afterwards by ``resolve_profiles``.
    """
    normalized = {(r, kind, v) for r, kind, value in links if (v := normalize(kind, value, region))}
    if not normalized:
        return
    people = current_people(session, {r for r, _, _ in normalized})
    key = personal.session_key(session)
    rows = [
        {
            "origin_uid": r,
            "uid": people[r],
            "type": kind,
            "value": v,
            "digest": personal.digest_for(key, kind, v),
            "source_system": source_system[:64],
        }
        for r, kind, v in sorted(normalized)
    ]
    upsert(session, Identity.__table__, rows, ["origin_uid", "type", "value"])


def _linked_records(session: Session, seeds: list[int], rules: IdentityRules) -> set[int]:
    """The seeds that share a mergeable identity with some other record, or belong to a merged person."""
    mergeable = [t for t, k in rules.types.items() if k.merge]
    other = aliased(Identity)
    found: set[int] = set()
    for chunk in _chunks(seeds):
        shared = (
            select(Identity.origin_uid)
            .join(
                other,
                and_(
                    other.type == Identity.type,
                    other.value == Identity.value,
                    other.origin_uid != Identity.origin_uid,
                ),
            )
            .where(Identity.origin_uid.in_(chunk), Identity.type.in_(mergeable))
            .distinct()
        )
        merged = select(Identity.origin_uid).where(
            Identity.origin_uid.in_(chunk), Identity.uid != Identity.origin_uid
        )
        survivors = select(Identity.uid).where(Identity.uid.in_(chunk), Identity.uid != Identity.origin_uid)
        for query in (shared, merged, survivors):
            found.update(session.scalars(query))
    return found


def _component(session: Session, start: int, rules: IdentityRules) -> tuple[set[int], set[tuple[str, str]]]:
    """Every record reachable from ``start`` through shared mergeable identities or a common person.

    Values held by more than ``max_shared`` records are not followed (they link nobody); they are returned.
    """
    mergeable = [t for t, k in rules.types.items() if k.merge]
    seen: set[int] = {start}
    frontier = [start]
    followed: set[tuple[str, str]] = set()
    too_common: set[tuple[str, str]] = set()
    while frontier:
        values: set[tuple[str, str]] = set()
        people: set[int] = set()
        for chunk in _chunks(frontier):
            rows = session.execute(
                select(Identity.type, Identity.value, Identity.uid).where(Identity.origin_uid.in_(chunk))
            )
            for kind, value, uid in rows:
                people.add(uid)
                if kind in mergeable and (kind, value) not in followed:
                    values.add((kind, value))
        followed |= values
        reached: set[int] = set()
        for kind, value in sorted(values):
            holders = set(
                session.scalars(
                    select(Identity.origin_uid)
                    .where(Identity.type == kind, Identity.value == value)
                    .limit(rules.max_shared + 1)
                )
            )
            if len(holders) > rules.max_shared:
                too_common.add((kind, value))
                continue
            reached |= holders
        for chunk in _chunks(sorted(people)):
            reached.update(session.scalars(select(Identity.origin_uid).where(Identity.uid.in_(chunk))))
        frontier = sorted(reached - seen)
        seen |= reached
    return seen, too_common


def _inputs(
    session: Session, records: set[int]
) -> tuple[dict[int, str], list[resolver.Ident], set[frozenset[int]]]:
    keys = {r: f"~{r:012d}" for r in records}  # a record without a user id sorts after those with one
    idents: list[resolver.Ident] = []
    for chunk in _chunks(sorted(records)):
        rows = session.execute(
            select(Identity.origin_uid, Identity.type, Identity.value, Identity.source_system).where(
                Identity.origin_uid.in_(chunk)
            )
        )
        for origin, kind, value, source in rows:
            idents.append(resolver.Ident(origin, kind, value, source))
            if kind == USER_ID and (keys[origin].startswith("~") or value < keys[origin]):
                keys[origin] = value
    separations: set[frozenset[int]] = set()
    for chunk in _chunks(sorted(records)):
        pairs = session.execute(
            select(IdentitySeparation.uid_a, IdentitySeparation.uid_b).where(
                or_(IdentitySeparation.uid_a.in_(chunk), IdentitySeparation.uid_b.in_(chunk))
            )
        )
        separations.update(frozenset(p) for p in pairs)
    return keys, idents, separations


def _record_merges(
    session: Session, actor: str, partition: resolver.Partition, remap: dict[int, int]
) -> list[IdentityMerge]:
    now = utcnow()
    touched: list[IdentityMerge] = []
    open_rows = session.scalars(
        select(IdentityMerge).where(
            IdentityMerge.merged_uid.in_(list(remap)), IdentityMerge.undone_at.is_(None)
        )
    )
    for row in open_rows:
        row.undone_at, row.undone_by = now, actor
        row.undo_reason = "unmerged" if remap[row.merged_uid] == row.merged_uid else "superseded"
        row.facts_moved = False
        touched.append(row)
    for record, person in sorted(remap.items()):
        if person != record:
            rule, evidence = partition.evidence[record]
            row = IdentityMerge(
                survivor_uid=person, merged_uid=record, rule=rule, evidence=evidence, actor=actor
            )
            session.add(row)
            touched.append(row)
    return touched


def _record_conflicts(session: Session, conflicts: list[resolver.Conflict]) -> None:
    rows = [
        {
            "type": c.type,
            "value": c.value,
            "uid_a": c.uid_a,
            "uid_b": c.uid_b,
            "reason": c.reason,
            "seen_at": utcnow(),
        }
        for c in conflicts
    ]
    upsert(
        session, IdentityConflict.__table__, rows, ["type", "value", "uid_a", "uid_b"], ["reason", "seen_at"]
    )


def resolve_profiles(
    stores: Stores,
    actor: Principal,
    records: Iterable[int],
    force: bool = False,
    warehouse: BaseBackend | None = None,
) -> ResolveReport:
    """Re-resolve the people around ``records`` (e.g. just imported); idempotent and order-independent.

    Without ``force`` only records that share an identity with another record (or are part of a merged
    person) start a component, which keeps a clean import of a million new customers cheap. A thread
    other than the one that opened the stores passes its own ``warehouse`` connection.
    """
    rules = rules_of(stores)
    report = ResolveReport()
    warehouse = warehouse or stores.warehouse
    with _apply_lock:
        repair_facts(stores, warehouse)
        with stores.sessions() as session:
            seeds = sorted(set(records))
            starts = set(seeds) if force else _linked_records(session, seeds, rules)
        done: set[int] = set()
        for start in sorted(starts):
            if start not in done:
                done |= _resolve_component(stores, warehouse, actor, start, rules, report)
    if report.merged or report.separated:
        stores.touch()
        stores.emit(PEOPLE_CHANGED, sorted(done))  # e.g. their tags are recomputed
    return report


def _resolve_component(
    stores: Stores,
    warehouse: BaseBackend,
    actor: Principal,
    start: int,
    rules: IdentityRules,
    report: ResolveReport,
) -> set[int]:
    with transaction(stores.sessions) as session:
        records, too_common = _component(session, start, rules)
        keys, idents, separations = _inputs(session, records)
        partition = resolver.resolve(keys, idents, separations, rules)
        now = current_people(session, records)
        remap = {r: p for r, p in partition.canonical.items() if now[r] != p}
        conflicts = partition.conflicts + [
            resolver.Conflict(t, v, start, start, "too_common") for t, v in sorted(too_common)
        ]
        _record_conflicts(session, conflicts)
        report.components += 1
        report.conflicts += len(conflicts)
        if not remap:
            return records
        for chunk in _chunks(sorted(remap)):
            for record in chunk:
                session.execute(
                    update(Identity).where(Identity.origin_uid == record).values(uid=remap[record])
                )
        _profiles().reassign_profiles(session, remap)
        touched = _record_merges(session, actor.username, partition, remap)
        session.flush()
        merged = sum(1 for r, p in remap.items() if p != r)
        report.merged += merged
        report.separated += len(remap) - merged
        report.merge_ids += [m.id for m in touched if m.undone_at is None]
        audit.record(
            session, actor.username, "identity.resolve", "customer", start,
            records=len(records), remap={str(k): v for k, v in sorted(remap.items())},
        )  # fmt: skip
        ids = [m.id for m in touched]
    _profiles().reassign_facts(warehouse, remap)
    with transaction(stores.sessions) as session:
        session.execute(update(IdentityMerge).where(IdentityMerge.id.in_(ids)).values(facts_moved=True))
    return records


def repair_facts(stores: Stores, warehouse: BaseBackend | None = None) -> int:
    """Finish warehouse moves a crash interrupted: facts of those records follow their current person."""
    with stores.sessions() as session:
        rows = session.execute(
            select(IdentityMerge.id, IdentityMerge.merged_uid, IdentityMerge.survivor_uid).where(
                IdentityMerge.facts_moved.is_(False)
            )
        ).all()
        if not rows:
            return 0
        remap = current_people(session, {r for _, m, s in rows for r in (m, s)})
    _profiles().reassign_facts(warehouse or stores.warehouse, remap)
    with transaction(stores.sessions) as session:
        ids = [i for i, _, _ in rows]
        session.execute(update(IdentityMerge).where(IdentityMerge.id.in_(ids)).values(facts_moved=True))
    return len(rows)


def record_of(session: Session, key: str) -> int:
    """The record uid whose own key (user id) is ``key``, else a numeric uid that has identities."""
    uid = session.scalar(select(Identity.origin_uid).where(Identity.type == USER_ID, Identity.value == key))
    if uid is None and key.isascii() and key.isdigit() and len(key) < 19:  # a uid fits in 64 bits
        uid = session.scalar(select(Identity.origin_uid).where(Identity.origin_uid == int(key)).limit(1))
    if uid is None:
        raise AppError(
            CoreErrorCode.NOT_FOUND, f"customer {key!r} not found", 404, {"field": "key", "key": key}
        )
    return uid


def merge_profiles(
    stores: Stores, actor: Principal, key_a: str, key_b: str, comment: str = ""
) -> ResolveReport:
    """Staff say two customers are one person: a manual link, still bound by the rules (409 if refused)."""
    with transaction(stores.sessions) as session:
        a, b = sorted((record_of(session, key_a), record_of(session, key_b)))
        people = current_people(session, (a, b))
        if people[a] == people[b]:
            raise AppError(
                CoreErrorCode.CONFLICT,
                f"{key_a!r} and {key_b!r} are already one person",
                409,
                {"field": "key_b"},
            )
        members = _members(session, {people[a], people[b]})
        session.execute(
            delete(IdentitySeparation).where(
                IdentitySeparation.uid_a.in_(members), IdentitySeparation.uid_b.in_(members)
            )
        )
        link = f"{a}+{b}"
        link_identities(session, [(a, MANUAL, link), (b, MANUAL, link)], f"staff:{actor.username}")
        audit.record(session, actor.username, "identity.merge", "customer", a, other=b, comment=comment)
    report = resolve_profiles(stores, actor, (a, b), force=True)
    with transaction(stores.sessions) as session:
        people = current_people(session, (a, b))
        if people[a] != people[b]:
            session.execute(delete(Identity).where(Identity.type == MANUAL, Identity.value == link))
            reason = _refusal(session, a, b)
            raise AppError(
                "merge_refused",
                f"{key_a!r} and {key_b!r} cannot be merged: {reason}",
                409,
                {"field": "key_b", "reason": reason},
            )
    return report


def _members(session: Session, people: set[int]) -> list[int]:
    rows = session.scalars(select(Identity.origin_uid).where(Identity.uid.in_(sorted(people))).distinct())
    return sorted(set(rows) | people)


def _refusal(session: Session, a: int, b: int) -> str:
    row = session.scalar(
        select(IdentityConflict)
        .where(IdentityConflict.type == MANUAL, IdentityConflict.uid_a.in_((a, b)))
        .order_by(IdentityConflict.id.desc())
    )
    if row is not None and row.reason:
        return f"both hold a different {row.reason.replace(':', ' of ')}"
    return "the identity rules keep them apart"


def unmerge_profile(
    stores: Stores, actor: Principal, key: str | None = None, merge_id: int | None = None, comment: str = ""
) -> ResolveReport:
    """Split a merged record back out with its own history; it stays apart until staff merge it again."""
    with transaction(stores.sessions) as session:
        query = select(IdentityMerge).where(IdentityMerge.undone_at.is_(None))
        if merge_id is not None:
            query = query.where(IdentityMerge.id == merge_id)
        elif key is not None:
            query = query.where(IdentityMerge.merged_uid == record_of(session, key))
        else:
            raise AppError(
                CoreErrorCode.INVALID_INPUT, "name a merged customer or a merge id", 422, {"field": "key"}
            )
        row = session.scalar(query)
        if row is None:
            what = f"merge {merge_id}" if merge_id is not None else f"customer {key!r}"
            raise AppError(
                CoreErrorCode.NOT_FOUND, f"{what} is not merged into anyone", 404, {"field": "key"}
            )
        record, survivor = row.merged_uid, row.survivor_uid
        pair = sorted((record, survivor))
        upsert(
            session,
            IdentitySeparation.__table__,
            [
                {
                    "uid_a": pair[0],
                    "uid_b": pair[1],
                    "actor": actor.username,
                    "reason": comment,
                    "created_at": utcnow(),
                }
            ],
            ["uid_a", "uid_b"],
        )
        members = _members(session, {survivor})
        session.execute(
            delete(Identity).where(
                Identity.type.in_((MANUAL, ALIAS)),
                Identity.origin_uid == record,
                Identity.value.in_(
                    select(Identity.value).where(
                        Identity.type.in_((MANUAL, ALIAS)), Identity.origin_uid.in_(members)
                    )
                ),
            )
        )
        audit.record(
            session,
            actor.username,
            "identity.unmerge",
            "customer",
            record,
            survivor=survivor,
            comment=comment,
        )
    return resolve_profiles(stores, actor, (record, survivor), force=True)


def view_identity_graph(stores: Stores, actor: Principal, key: str) -> IdentityGraph:
    """A person's records, identities, merge history and conflicts; masked without ``pii:view``; audited."""
    masked = not actor.can(Permission.PII_VIEW)
    with transaction(stores.sessions) as session:
        record = record_of(session, key)
        person = current_people(session, (record,))[record]
        result = queries.graph(session, person, masked)
        audit.record(session, actor.username, "identity.view", "customer", person, masked=masked)
    return result


def reindex_identities(stores: Stores, actor: Principal) -> int:
    """Recompute every personal identity's blind-index digest with the current secret key.

    Run it after rotating the secret (``tagora customers reindex``): a search would notice the new key
    and re-index too, but on a large store that first search would be slow."""
    if not actor.can(Permission.CUSTOMERS_WRITE):
        raise AppError(CoreErrorCode.FORBIDDEN, "you may not re-index customers", 403)
    with transaction(stores.sessions) as session:
        count = personal.index_personal_identities(session, personal.key_of(stores.settings), everything=True)
        audit.record(session, actor.username, "identities.reindex", "identity", "", count=count)
    return count
