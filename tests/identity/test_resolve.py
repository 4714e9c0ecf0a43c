"""The pure resolver: merge rules, conflicts, separations, and independence from arrival order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tagora.identity.resolve import Ident, resolve
from tagora.identity.rules import DEFAULT_TYPES, IdentityRules, IdentityType, normalize

RULES = IdentityRules()


def people(partition: dict[int, int]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for record, person in partition.items():
        groups.setdefault(person, set()).add(record)
    return {frozenset(g) for g in groups.values()}


def test_records_of_two_systems_sharing_a_phone_are_one_person() -> None:
    records = {1: "C-1", 2: "S-1", 3: "S-2"}
    idents = [
        Ident(1, "user_id", "C-1", "crm"), Ident(1, "phone", "+8613800138000"),
        Ident(2, "user_id", "S-1", "shop"), Ident(2, "phone", "+8613800138000"),
        Ident(3, "user_id", "S-2", "shop"), Ident(3, "email", "x@example.com"),
    ]  # fmt: skip
    result = resolve(records, idents, set(), RULES)
    assert people(result.canonical) == {frozenset({1, 2}), frozenset({3})}
    assert result.canonical[2] == 1  # the survivor is the record with the smallest key, "C-1"
    assert result.evidence == {2: ("phone", "+8613800138000")}
    assert result.conflicts == []


def test_two_user_ids_of_one_system_never_merge_and_the_conflict_is_kept() -> None:
    records = {1: "S-1", 2: "S-2"}
    idents = [
        Ident(1, "user_id", "S-1", "shop"), Ident(1, "phone", "+8613800138000"),
        Ident(2, "user_id", "S-2", "shop"), Ident(2, "phone", "+8613800138000"),
    ]  # fmt: skip
    result = resolve(records, idents, set(), RULES)
    assert people(result.canonical) == {frozenset({1}), frozenset({2})}
    assert [(c.type, c.reason) for c in result.conflicts] == [("phone", "user_id:shop")]


def test_a_bridge_record_joins_only_the_side_its_strongest_identity_reaches() -> None:
    # S-1 and S-2 (one shop) may never be one person; C-9 shares a phone with S-1 and an email with S-2.
    records = {1: "S-1", 2: "S-2", 3: "C-9"}
    idents = [
        Ident(1, "user_id", "S-1", "shop"), Ident(1, "phone", "p"),
        Ident(2, "user_id", "S-2", "shop"), Ident(2, "email", "e"),
        Ident(3, "user_id", "C-9", "crm"), Ident(3, "phone", "p"), Ident(3, "email", "e"),
    ]  # fmt: skip
    result = resolve(records, idents, set(), RULES)
    assert people(result.canonical) == {frozenset({1, 3}), frozenset({2})}  # phone outranks email
    assert [c.reason for c in result.conflicts] == ["user_id:shop"]


def test_a_separation_keeps_two_records_apart_without_a_conflict() -> None:
    records = {1: "A", 2: "B"}
    idents = [Ident(1, "phone", "p"), Ident(2, "phone", "p")]
    result = resolve(records, idents, {frozenset({1, 2})}, RULES)
    assert people(result.canonical) == {frozenset({1}), frozenset({2})}
    assert result.conflicts == []


def test_a_value_shared_by_too_many_records_links_nobody() -> None:
    rules = IdentityRules(max_shared=3)
    records = {i: f"K{i}" for i in range(5)}
    idents = [Ident(i, "phone", "+8640000000000") for i in range(5)]
    result = resolve(records, idents, set(), rules)
    assert len(people(result.canonical)) == 5
    assert [c.reason for c in result.conflicts] == ["too_common"]


def test_a_type_configured_not_to_merge_links_nothing() -> None:
    rules = IdentityRules(types={**DEFAULT_TYPES, "device_id": IdentityType(priority=30, merge=False)})
    result = resolve({1: "A", 2: "B"}, [Ident(1, "device_id", "d"), Ident(2, "device_id", "d")], set(), rules)
    assert len(people(result.canonical)) == 2


def test_phones_and_emails_are_normalized_to_one_form() -> None:
    assert normalize("phone", "138 0013 8000") == normalize("phone", "+86-138-0013-8000") == "+8613800138000"
    assert normalize("phone", "(415) 555-2671", "US") == "+14155552671"
    assert normalize("email", "  Li.Lei@Example.COM ") == "li.lei@example.com"
    assert normalize("phone", "   ") is None


KINDS = ("user_id", "phone", "email", "wechat_unionid", "anonymous_id")


@st.composite
def graphs(draw: st.DrawFn) -> tuple[dict[int, str], list[Ident], set[frozenset[int]]]:
    n = draw(st.integers(2, 9))
    records = {i + 1: f"K{i:02d}" for i in range(n)}
    idents = [
        Ident(
            draw(st.integers(1, n)),
            draw(st.sampled_from(KINDS)),
            draw(st.sampled_from("abcd")),
            draw(st.sampled_from(("crm", "shop"))),
        )
        for _ in range(draw(st.integers(0, 20)))
    ]
    pairs = draw(st.lists(st.tuples(st.integers(1, n), st.integers(1, n)), max_size=2))
    return records, idents, {frozenset(p) for p in pairs if p[0] != p[1]}


@settings(max_examples=300, deadline=None)
@given(graphs(), st.randoms(use_true_random=False))
def test_the_outcome_does_not_depend_on_the_order_records_and_identities_arrive(
    graph: tuple[dict[int, str], list[Ident], set[frozenset[int]]], rnd: object
) -> None:
    records, idents, separations = graph
    shuffled = list(idents)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    # Arrival order also decides uids: renumber the records in reverse and map back.
    flip = {r: len(records) + 1 - r for r in records}
    flipped = resolve(
        {flip[r]: k for r, k in records.items()},
        [Ident(flip[i.origin], i.type, i.value, i.source) for i in shuffled],
        {frozenset(flip[x] for x in p) for p in separations},
        RULES,
    )
    back = {flip[r]: flip[p] for r, p in flipped.canonical.items()}
    assert back == resolve(records, idents, separations, RULES).canonical


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_no_person_ever_holds_two_user_ids_of_one_system_or_two_separated_records(
    graph: tuple[dict[int, str], list[Ident], set[frozenset[int]]],
) -> None:
    records, idents, separations = graph
    canonical = resolve(records, idents, separations, RULES).canonical
    for group in people(canonical):
        for source in ("crm", "shop"):
            ids = {
                i.value for i in idents if i.origin in group and i.type == "user_id" and i.source == source
            }
            held = [{i.value for i in idents if i.origin == r and i.type == "user_id" and i.source == source}
                    for r in group]  # fmt: skip
            assert len(ids) <= max(len(h) for h in held)  # never more than one record already had
        assert not any(p <= group for p in separations)
