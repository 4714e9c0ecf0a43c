"""Batch computation on hand-made customers: attributes, windows, ratios, decayed weights, the DAG."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tagora.core.auth import CLI_OPERATOR, Principal, Role
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.identity import facade as identity
from tagora.profiles import facade as profiles
from tagora.profiles.models import Customer
from tagora.tags.compute import order
from tagora.tags.logic import assign_tag, install_definitions, validate_draft
from tagora.tags.queries import resolve_customer
from tagora.tags.runs import compute_tags, runs
from tests.tags.conftest import AS_OF, _insert, _line


def tag_values(stores: Stores, uid: int) -> dict[str, Any]:
    t = stores.warehouse.table("tag_values")
    rows = t.filter(t.uid == uid).to_pyarrow().to_pylist()
    out: dict[str, Any] = {}
    for r in rows:
        if r["tag"] == "category_interest":
            out.setdefault("category_interest", {})[r["value"]] = r["weight"]
        else:
            out[r["tag"]] = r["number"] if r["value"] is None else r["value"]
    return out


def test_the_library_computes_attributes_windows_ratios_and_rules(shop: Stores) -> None:
    run = compute_tags(shop, as_of=AS_OF)
    assert run.status == "succeeded", run.errors
    ann, bob, cy = (tag_values(shop, uid) for uid in (1, 2, 3))
    assert (ann["gender"], ann["age"], ann["age_band"], ann["member_tier"]) == (
        "female",
        35.0,
        "35_44",
        "gold",
    )
    assert (bob["gender"], bob["age"], bob["age_band"]) == ("male", 26.0, "25_34")  # birthday today
    assert (ann["orders_30d"], ann["monetary_30d"], ann["recency_days"], ann["lifecycle"]) == (
        1,
        100,
        0,
        "new",
    )
    assert (bob["orders_365d"], bob["monetary_365d"], bob["orders_total"], bob["monetary_total"]) == (
        2, 1060, 3, 2060,
    )  # fmt: skip
    assert (bob["recency_days"], bob["first_order_days"], bob["returns_rate"]) == (
        10,
        400,
        pytest.approx(1 / 3),
    )
    assert (bob["price_sensitivity"], ann["price_sensitivity"]) == ("high", "low")  # 1 of 2 lines vs 0 of 1
    assert (bob["categories_365d"], bob["cross_category_buyer"], ann["cross_category_buyer"]) == (
        2, "cross_category", "single_category",
    )  # fmt: skip
    assert (ann["preferred_category"], ann["weekend_shopper"], ann["shopping_time"]) == (
        "服装",
        "weekday",
        "afternoon",
    )
    assert (ann["product_views_30d"], ann["events_30d"], ann["engagement_level"]) == (2, 2, "low")
    assert (bob["lifecycle"], bob["repeat_buyer"], bob["churn_risk"]) == ("active", "true", "low")
    assert (cy["orders_total"], cy["engagement_level"]) == (0, "inactive")
    assert "lifecycle" not in cy and "recency_days" not in cy and "age" not in cy


def test_weighted_interests_decay_with_their_half_life(shop: Stores) -> None:
    compute_tags(shop, as_of=AS_OF)
    # Ages count from the end of the as-of day: a purchase at noon is 12 h old, the two views 30 days.
    interests = tag_values(shop, 1)["category_interest"]
    assert interests["服装"] == pytest.approx(3 * 0.5 ** (0.5 / 30), rel=1e-5)
    assert interests["数码电器"] == pytest.approx(2 * 0.5, rel=1e-5)


def test_runs_are_recorded_and_computing_needs_the_permission(shop: Stores) -> None:
    compute_tags(shop, tags=["orders_30d"], as_of=AS_OF)
    (run,) = runs(shop)
    assert (run.status, run.tags, run.customers, run.values_written) == ("succeeded", ["orders_30d"], 3, 3)
    assert run.duration_s is not None and run.finished_at is not None
    with pytest.raises(AppError) as caught:
        compute_tags(shop, Principal("mia", Role.MARKETER))
    assert caught.value.status == 403
    with pytest.raises(AppError, match="'nope' has no published version"):
        compute_tags(shop, tags=["nope"])


def test_a_run_that_fails_while_publishing_leaves_the_old_values_and_no_snapshot(
    shop: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = compute_tags(shop, tags=["orders_30d"], as_of=AS_OF)
    before = tag_values(shop, 1)

    def broken(*_args: object) -> None:
        raise RuntimeError("the disk is full")

    # The snapshot is written, then publishing it as the current values fails.
    monkeypatch.setattr("tagora.tags.runs._publish", broken)
    failed = compute_tags(shop, tags=["orders_30d"], as_of=AS_OF + timedelta(days=40))
    assert failed.status == "failed" and "the disk is full" in failed.errors["run"]
    assert tag_values(shop, 1) == before
    for name in ("tag_value_history", "tag_snapshots"):  # what readers see, and what is stored
        history = shop.warehouse.table(name)
        snapshots = history.group_by("run_id").aggregate(n=history.count()).to_pyarrow().to_pylist()
        assert snapshots == [{"run_id": first.id, "n": 3}]


def test_a_run_over_some_customers_overrides_their_values_until_the_next_run_over_everyone(
    shop: Stores,
) -> None:
    everyone = compute_tags(shop, tags=["gender", "member_tier"], as_of=AS_OF)
    assert (tag_values(shop, 1)["member_tier"], tag_values(shop, 2)["gender"]) == ("gold", "male")
    with shop.sessions() as session, session.begin():
        cleared = update(Customer).where(Customer.uid.in_([1, 2])).values(member_tier=None, gender=None)
        session.execute(cleared)
    some = compute_tags(shop, tags=["gender", "member_tier"], uids=[1], as_of=AS_OF)
    assert "member_tier" not in tag_values(shop, 1) and "gender" not in tag_values(shop, 1)  # now none
    assert tag_values(shop, 2)["gender"] == "male"  # not in the run: the last run over everyone's value
    t = shop.warehouse.table("tag_values")
    assert set(t.filter(t.uid == 2).run_id.to_pyarrow().to_pylist()) == {everyone.id}
    history = shop.warehouse.table("tag_value_history")
    ann = history.filter((history.uid == 1) & (history.tag == "member_tier"))
    assert ann.select("run_id", "value").to_pyarrow().to_pylist() == [
        {"run_id": everyone.id, "value": "gold"}
    ]
    assert some.values_written == 0
    compute_tags(shop, tags=["gender", "member_tier"], as_of=AS_OF)
    assert "gender" not in tag_values(shop, 2)
    assert shop.warehouse.table("tag_overrides").count().execute() == 0


def test_a_dependency_cycle_among_rule_tags_is_refused() -> None:
    def rule(code: str, text: str) -> Any:
        return validate_draft(
            {"code": code, "name_zh": code, "name_en": code, "category": "value", "type": "rule",
             "value_type": "boolean", "spec": {"kind": "rule", "rule": text}}
        )  # fmt: skip

    drafts = {"aa": rule("aa", "bb"), "bb": rule("bb", "cc"), "cc": rule("cc", "aa")}
    with pytest.raises(AppError, match="depend on each other"):
        order(drafts)
    assert order({"aa": rule("aa", "bb"), "bb": rule("bb", "age > 3")}) == ["bb", "aa"]


def test_after_an_identity_merge_recomputing_both_uids_leaves_one_person_with_both_histories(
    shop: Stores,
) -> None:
    with shop.sessions() as session, session.begin():
        dan = profiles.upsert_customers(session, CLI_OPERATOR, [{"customer_key": "dan"}], "crm")["dan"]
    line = _line(dan, "dress", 1, 50.0)
    _insert(shop, "order_lines", profiles.ORDER_LINES, [line])
    _insert(
        shop,
        "orders",
        profiles.ORDERS,
        [{k: line[k] for k in ("order_id", "kind", "uid", "ordered_at", "amount")}],
    )
    compute_tags(shop, as_of=AS_OF)
    assert tag_values(shop, dan)["orders_total"] == 1
    identity.merge_profiles(shop, CLI_OPERATOR, "ann", "dan", "same person")
    with shop.sessions() as session:
        survivor = resolve_customer(session, "dan")
    gone = ({1, dan} - {survivor}).pop()
    run = compute_tags(shop, uids=[1, dan], as_of=AS_OF)
    assert run.customers == 1
    assert tag_values(shop, gone) == {}
    merged = tag_values(shop, survivor)
    assert (merged["orders_total"], merged["monetary_total"]) == (2, 150)
    assert tag_values(shop, 2)["orders_total"] == 3  # untouched


def test_staff_put_a_manual_tag_on_customers_and_a_rule_tag_reads_it(shop: Stores) -> None:
    def draft(code: str, type_: str, spec: dict[str, Any]) -> Any:
        return validate_draft(
            {"code": code, "name_zh": code, "name_en": code, "category": "risk", "type": type_,
             "value_type": "boolean", "spec": spec}
        )  # fmt: skip

    complained = draft("complained", "manual", {"kind": "manual"})
    at_risk = draft("repeat_complainer", "rule", {"kind": "rule", "rule": "complained and orders_total >= 2"})
    install_definitions(shop.sessions, CLI_OPERATOR, [complained, at_risk], "test")
    sales = Principal("sam", Role.SALES)
    assert assign_tag(shop, sales, "complained", {2: "true", 1: "false"}, "called twice") == 2
    with pytest.raises(AppError, match="customer 3: 'maybe' is not a boolean value"):
        assign_tag(shop, sales, "complained", {3: "maybe"})
    with pytest.raises(AppError, match="only manual tags"):
        assign_tag(shop, sales, "orders_total", {3: 1})
    compute_tags(shop, as_of=AS_OF)
    ann, bob = tag_values(shop, 1), tag_values(shop, 2)
    assert (ann["complained"], ann["repeat_complainer"]) == ("false", "false")
    assert (bob["complained"], bob["repeat_complainer"]) == ("true", "true")
    t = shop.warehouse.table("tag_values")
    sources = t.filter(t.tag == "complained").source.to_pyarrow().to_pylist()
    assert sources == ["manual:sam", "manual:sam"]
