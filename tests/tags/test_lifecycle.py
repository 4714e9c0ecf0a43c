"""The tag catalogue: definitions validated as a whole, the approval lifecycle, versions and permissions."""

from __future__ import annotations

from typing import Any

import pytest

from tagora.core.audit import entries
from tagora.core.auth import CLI_OPERATOR, Principal, Role
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.tags import catalogue, logic
from tagora.tags.schemas import TagDraft, TagRevision

ADMIN = Principal("boss", Role.ADMIN)
ANALYST = Principal("ana", Role.ANALYST)
MARKETER = Principal("mia", Role.MARKETER)
SALES = Principal("sam", Role.SALES)


def orders_90d(**overrides: Any) -> TagDraft:
    data: dict[str, Any] = {
        "code": "orders_90d",
        "name_zh": "近90天订单数",
        "name_en": "Orders in the last 90 days",
        "category": "purchase",
        "type": "statistical",
        "value_type": "number",
        "spec": {
            "kind": "statistical",
            "source": "orders",
            "measure": {"fn": "count", "filters": [{"field": "kind", "value": "purchase"}]},
            "window": {"last_days": 90},
            "default": 0,
        },
    }
    return TagDraft.model_validate(data | overrides)


def vip(**overrides: Any) -> TagDraft:
    data: dict[str, Any] = {
        "code": "vip",
        "name_zh": "重要客户",
        "name_en": "VIP",
        "category": "value",
        "type": "rule",
        "value_type": "boolean",
        "spec": {"kind": "rule", "rule": 'member_tier in ("gold", "diamond") and orders_90d >= 2'},
    }
    return TagDraft.model_validate(data | overrides)


def published(stores: Stores, draft: TagDraft) -> None:
    logic.create_tag(stores.sessions, MARKETER, draft)
    logic.submit_tag(stores, MARKETER, draft.code, "please")
    logic.approve_tag(stores, ADMIN, draft.code, "ok")
    logic.publish_tag(stores, ANALYST, draft.code, "built")


def test_a_requested_tag_goes_through_approval_to_published_with_each_step_audited(stores: Stores) -> None:
    tag = logic.create_tag(stores.sessions, MARKETER, orders_90d(), "we need this for the spring campaign")
    assert (tag.status, tag.version, tag.owner) == ("draft", 1, "mia")
    for verb, actor, status in [
        ("submit", MARKETER, "pending_approval"),
        ("approve", ADMIN, "approved"),
        ("publish", ANALYST, "published"),
        ("deprecate", ANALYST, "deprecated"),
        ("retire", ANALYST, "retired"),
    ]:
        seen = stores.generation
        tag = logic.transition(stores, actor, "orders_90d", verb, f"{verb} it")
        assert tag.status == status
        assert stores.generation > seen  # the verb itself tells caches (the segment builder) to look again
    with stores.sessions() as session:
        actions = [(e.action, e.actor, e.detail["comment"]) for e in reversed(entries(session))]
    assert actions == [
        ("tag.create", "mia", "we need this for the spring campaign"),
        ("tag.submit", "mia", "submit it"),
        ("tag.approve", "boss", "approve it"),
        ("tag.publish", "ana", "publish it"),
        ("tag.deprecate", "ana", "deprecate it"),
        ("tag.retire", "ana", "retire it"),
    ]


@pytest.mark.parametrize(
    ("actor", "verb", "allowed"),
    [
        (SALES, "create", False),
        (MARKETER, "create", True),
        (ANALYST, "create", True),
        (MARKETER, "approve", False),
        (ANALYST, "approve", False),
        (SALES, "approve", False),
        (ADMIN, "approve", True),
        (MARKETER, "publish", False),
        (SALES, "publish", False),
        (ANALYST, "publish", True),
        (ADMIN, "publish", True),
        (MARKETER, "retire", False),
        (ANALYST, "retire", True),
    ],
)
def test_each_role_may_do_only_its_own_lifecycle_steps(
    stores: Stores, actor: Principal, verb: str, allowed: bool
) -> None:
    steps = {"approve": ["create", "submit"], "publish": ["create", "submit", "approve"]}
    steps["retire"] = [*steps["publish"], "publish"]
    for step in steps.get(verb, []):
        if step == "create":
            logic.create_tag(stores.sessions, CLI_OPERATOR, orders_90d())
        else:
            logic.transition(stores, CLI_OPERATOR, "orders_90d", step)

    def act() -> None:
        if verb == "create":
            logic.create_tag(stores.sessions, actor, orders_90d())
        else:
            logic.transition(stores, actor, "orders_90d", verb, "because")

    if allowed:
        act()
    else:
        with pytest.raises(AppError) as caught:
            act()
        assert caught.value.status == 403


def test_steps_out_of_order_are_refused_and_a_rejection_needs_a_reason(stores: Stores) -> None:
    logic.create_tag(stores.sessions, MARKETER, orders_90d())
    with pytest.raises(AppError, match="cannot publish tag 'orders_90d' v1: it is draft, not approved"):
        logic.publish_tag(stores, ADMIN, "orders_90d")
    logic.submit_tag(stores, MARKETER, "orders_90d")
    with pytest.raises(AppError, match="say why"):
        logic.reject_tag(stores, ADMIN, "orders_90d", "  ")
    assert logic.reject_tag(stores, ADMIN, "orders_90d", "window too short").status == "draft"


def test_editing_a_published_tag_creates_a_new_version_and_publishing_it_replaces_the_old(
    stores: Stores,
) -> None:
    published(stores, orders_90d())
    spec = orders_90d().spec.model_dump() | {"window": {"last_days": 120}}
    revised = logic.revise_tag(
        stores.sessions, ANALYST, "orders_90d", TagRevision(spec=spec), "longer window"
    )
    assert (revised.version, revised.status, revised.spec["window"]["last_days"]) == (2, "draft", 120)
    with stores.sessions() as session:
        still = catalogue.live(session, "orders_90d")
        assert (still.version, still.spec["window"]["last_days"]) == (1, 90)
    again = logic.revise_tag(stores.sessions, ANALYST, "orders_90d", TagRevision(name_en="Orders, 120 days"))
    assert again.version == 2  # a draft is edited in place
    for verb, actor in [("submit", ANALYST), ("approve", ADMIN), ("publish", ANALYST)]:
        logic.transition(stores, actor, "orders_90d", verb)
    with stores.sessions() as session:
        assert catalogue.live(session, "orders_90d").version == 2
        assert catalogue.latest(session, "orders_90d").name_en == "Orders, 120 days"
        statuses = {t.version: t.status for t in catalogue.current_versions(session, include_retired=True)}
    assert statuses == {2: "published"}


def test_a_retired_tag_leaves_the_catalogue_listing_but_stays_readable(stores: Stores) -> None:
    published(stores, orders_90d())
    logic.retire_tag(stores, ANALYST, "orders_90d", "replaced by orders_120d")
    with stores.sessions() as session:
        assert catalogue.search(session) == []
        assert [t.code for t in catalogue.search(session, include_retired=True)] == ["orders_90d"]
        assert catalogue.latest(session, "orders_90d").status == "retired"
        assert "orders_90d" not in catalogue.rule_catalogue(session)


def test_a_rule_tag_is_type_checked_against_the_catalogue_with_a_position(stores: Stores) -> None:
    with pytest.raises(AppError) as caught:
        logic.create_tag(stores.sessions, MARKETER, vip())
    assert caught.value.code == "tag_invalid_rule"
    assert caught.value.data["column"] == 40 and "orders_90d" in caught.value.message
    published(stores, orders_90d())
    bad = vip(spec={"kind": "rule", "rule": 'orders_90d >= "two"'})
    with pytest.raises(AppError, match="'orders_90d' is number"):
        logic.create_tag(stores.sessions, MARKETER, bad)
    assert logic.create_tag(stores.sessions, MARKETER, vip()).status == "draft"


def test_a_tag_read_by_a_live_rule_tag_cannot_be_retired(stores: Stores) -> None:
    published(stores, orders_90d())
    published(stores, vip())
    with pytest.raises(AppError, match="read by live rule tags: vip"):
        logic.retire_tag(stores, ADMIN, "orders_90d")


def test_a_rule_tag_cannot_be_published_before_the_tags_it_reads(stores: Stores) -> None:
    logic.create_tag(stores.sessions, MARKETER, orders_90d())
    logic.create_tag(stores.sessions, MARKETER, vip())
    logic.submit_tag(stores, MARKETER, "vip")
    logic.approve_tag(stores, ADMIN, "vip")
    with pytest.raises(AppError, match="tag 'orders_90d' has no published version"):
        logic.publish_tag(stores, ANALYST, "vip")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": "Orders 90"}, "code"),
        ({"value_type": "enum"}, "this spec gives 'number' values"),
        ({"type": "rule"}, "a rule tag needs a spec of kind rule"),
        (
            {"spec": {"kind": "statistical", "source": "orders", "measure": {"fn": "sum", "field": "sku"}}},
            "orders has no field 'sku'",
        ),
        ({"spec": {"kind": "statistical", "source": "events", "measure": {"fn": "sum"}}}, "needs a field"),
    ],
)
def test_an_inconsistent_definition_is_refused_naming_the_field(change: dict[str, Any], message: str) -> None:
    data = orders_90d().model_dump(mode="json") | change
    with pytest.raises(AppError) as caught:
        logic.validate_draft(data)
    assert message in caught.value.message
    assert caught.value.status == 422


def test_an_unknown_category_and_a_taken_code_are_clear_errors(stores: Stores) -> None:
    with pytest.raises(AppError, match=r"unknown category 'nope'.*demographics"):
        logic.create_tag(stores.sessions, MARKETER, orders_90d(category="nope"))
    logic.create_tag(stores.sessions, MARKETER, orders_90d())
    with pytest.raises(AppError, match="exists; revise it instead"):
        logic.create_tag(stores.sessions, MARKETER, orders_90d())


def test_the_category_tree_is_seeded_with_the_six_classic_roots(stores: Stores) -> None:
    with stores.sessions() as session:
        names = [c.name_zh for c in catalogue.categories(session)]
    assert names == ["人口属性", "消费行为", "互动行为", "价值评估", "偏好兴趣", "风险预警"]


def test_the_catalogue_works_on_postgresql(pg_stores: Stores) -> None:
    published(pg_stores, orders_90d())
    published(pg_stores, vip())
    with pg_stores.sessions() as session:
        assert [t.code for t in catalogue.search(session, "VIP")] == ["vip"]
        assert [t.code for t in catalogue.search(session, category="purchase")] == ["orders_90d"]
