"""Tag evaluation on the hand-made shop: coverage, distributions, drift between runs, usage, the report."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tagora.audiences import facade as audiences
from tagora.audiences import logic as audiences_logic
from tagora.audiences.schemas import SegmentCreate
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.tags import catalogue
from tagora.tags.evaluation import NO_VALUE, evaluate_tag, psi, value_report
from tagora.tags.library import install_library
from tagora.tags.runs import compute_tags
from tests.tags.conftest import AS_OF


def _two_runs(shop: Stores) -> None:
    assert compute_tags(shop, as_of=AS_OF).status == "succeeded"
    assert compute_tags(shop, as_of=AS_OF + timedelta(days=60)).status == "succeeded"


def test_coverage_and_enum_shares_count_customers_with_a_value(shop: Stores) -> None:
    compute_tags(shop, as_of=AS_OF)
    lifecycle = evaluate_tag(shop, "lifecycle")
    # ann bought today (new), bob 10 days ago after earlier orders (active), cy never bought (no value)
    assert (lifecycle.live_customers, lifecycle.customers_with_value) == (3, 2)
    assert lifecycle.coverage == pytest.approx(2 / 3)
    assert {v.value: (v.count, v.share) for v in lifecycle.distribution.values} == {
        "new": (1, 0.5),
        "active": (1, 0.5),
    }
    assert lifecycle.drift is None  # one run: nothing to compare with
    assert lifecycle.last_run is not None and lifecycle.last_run.status == "succeeded"
    assert not lifecycle.stale and not lifecycle.failing


def test_a_number_tag_gets_an_equal_width_histogram_and_its_mean(shop: Stores) -> None:
    compute_tags(shop, as_of=AS_OF)
    money = evaluate_tag(shop, "monetary_365d")  # ann 100, bob 60 + 1000, cy 0
    bins = money.distribution.bins
    # whole numbers: 1061 possible values in 10 bins of 107 (0–106, ..., 963–1069)
    assert money.distribution.integers and len(bins) == 10
    assert [(b.low, b.high) for b in bins[:2]] == [(0, 106), (107, 213)] and bins[-1].high == 1069
    assert [b.count for b in bins] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    rate = evaluate_tag(shop, "returns_rate").distribution  # bob 1/3 of his lines came back, ann none
    assert not rate.integers and [(b.low, b.high) for b in rate.bins][-1] == (
        pytest.approx(0.3),
        pytest.approx(1 / 3),
    )
    assert [b.count for b in rate.bins] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert money.distribution.mean == pytest.approx(1160 / 3)
    assert money.coverage == 1.0  # a sum defaults to 0 for customers without orders


def test_drift_compares_the_last_two_full_runs_with_the_population_stability_index(shop: Stores) -> None:
    _two_runs(shop)
    lifecycle = evaluate_tag(shop, "lifecycle")
    drift = lifecycle.drift
    assert drift is not None and (drift.previous_run_id, drift.run_id) == (1, 2)
    # 60 days later ann (one order) is active, not new; cy still has no value.
    before = {"new": 1 / 3, "active": 1 / 3, NO_VALUE: 1 / 3}
    after = {"active": 2 / 3, NO_VALUE: 1 / 3}
    e = 1e-4
    expected = (e - 1 / 3) * math.log(e / (1 / 3)) + (2 / 3 - 1 / 3) * math.log(2)
    assert drift.psi == pytest.approx(expected, abs=1e-5) and drift.level == "major"
    assert {c.bucket: (c.before, c.after) for c in drift.changes} == {
        b: (pytest.approx(before.get(b, 0)), pytest.approx(after.get(b, 0))) for b in before
    }
    assert [(p.run_id, p.customers, p.shares) for p in lifecycle.history] == [
        (1, 2, {"active": 0.5, "new": 0.5}),
        (2, 2, {"active": 1.0, "new": 0.0}),
    ]
    same = evaluate_tag(shop, "gender").drift
    assert same is not None and same.psi == 0 and same.level == "stable"


def test_a_run_for_a_few_customers_is_not_a_population_to_drift_against(shop: Stores) -> None:
    compute_tags(shop, as_of=AS_OF)
    compute_tags(shop, uids=[1], as_of=AS_OF + timedelta(days=60))
    lifecycle = evaluate_tag(shop, "lifecycle")
    assert lifecycle.drift is None and [p.run_id for p in lifecycle.history] == [1]
    assert lifecycle.last_run is not None and lifecycle.last_run.id == 2


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift() -> None:
    assert psi({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}) == 0
    small = psi({"a": 0.5, "b": 0.5}, {"a": 0.55, "b": 0.45})
    large = psi({"a": 0.5, "b": 0.5}, {"a": 0.9, "b": 0.1})
    assert 0 < small < 0.1 < 0.25 < large
    assert small == pytest.approx(0.05 * math.log(0.55 / 0.5) - 0.05 * math.log(0.45 / 0.5))


def _index_from_tags(shop: Stores) -> None:
    with shop.sessions() as session:
        kinds = {t.code: t.value_type for t in catalogue.live_tags(session)}
    values = shop.warehouse.table("tag_values").select("uid", "tag", "value", "number", "weight")
    audiences.rebuild_index(shop, kinds, values.to_pyarrow())


def test_usage_names_segments_directly_or_through_another_segment_and_rule_tags(shop: Stores) -> None:
    compute_tags(shop, as_of=AS_OF)
    _index_from_tags(shop)
    new = {"tag": "lifecycle", "op": "=", "value": "new"}
    for code, expression in (
        ("newcomers", new),
        (
            "female_newcomers",
            {"all": [{"segment": "newcomers"}, {"tag": "gender", "op": "=", "value": "female"}]},
        ),
        ("big", {"tag": "monetary_365d", "op": ">", "value": 500}),
    ):
        data = SegmentCreate(code=code, name=code, expression=expression)
        audiences_logic.create_segment(shop, CLI_OPERATOR, data)
    assert audiences.segments_using(shop, "lifecycle") == ["female_newcomers", "newcomers"]
    with shop.sessions() as session:
        assert audiences.segments_using(session, "gender") == ["female_newcomers"]
    usage = evaluate_tag(shop, "lifecycle", lambda code: audiences.segments_using(shop, code)).usage
    assert usage.segments == ["female_newcomers", "newcomers"]
    assert "churn_risk" in usage.rule_tags  # its rule reads lifecycle
    audiences_logic.archive_segment(shop, CLI_OPERATOR, "big")
    assert audiences.segments_using(shop, "monetary_365d") == []


def test_the_report_lists_unused_stale_and_failing_tags(shop: Stores) -> None:
    compute_tags(shop, as_of=AS_OF)
    report = value_report(shop)
    rows = {r.code: r for r in report.tags}
    assert len(rows) == 42 and report.live_customers == 3
    assert "lifecycle" not in report.unused and "monetary_365d" in report.unused
    assert report.stale == [] and report.failing == []
    assert rows["lifecycle"].coverage == pytest.approx(2 / 3)
    # ann and bob have two interests each: customers are counted, not values
    assert rows["category_interest"].coverage == pytest.approx(2 / 3)
    later = value_report(shop, now=rows["lifecycle"].last_computed_at + timedelta(days=2))  # type: ignore[operator]
    assert set(later.stale) == set(rows)  # every library tag is computed on a schedule

    shop.warehouse.drop_table("orders")  # the next run cannot read its facts
    failed = compute_tags(shop, tags=["monetary_365d"], as_of=AS_OF)
    assert failed.status == "failed"
    report = value_report(shop)
    assert "monetary_365d" in report.failing and "lifecycle" not in report.failing
    evaluation = evaluate_tag(shop, "monetary_365d")
    assert evaluation.failing and evaluation.last_run is not None and evaluation.last_run.error


def test_evaluation_and_the_report_work_on_postgresql(pg_stores: Stores) -> None:
    with pg_stores.sessions() as session, session.begin():
        profiles.upsert_customers(
            session, CLI_OPERATOR, [{"customer_key": "p1", "gender": "F"}, {"customer_key": "p2"}], "t"
        )
    install_library(pg_stores.sessions, CLI_OPERATOR)
    assert compute_tags(pg_stores, tags=["gender"], as_of=AS_OF).status == "succeeded"
    assert compute_tags(pg_stores, tags=["gender"], as_of=AS_OF).status == "succeeded"
    gender = evaluate_tag(pg_stores, "gender", lambda code: audiences.segments_using(pg_stores, code))
    assert (gender.live_customers, gender.customers_with_value) == (2, 1)
    assert gender.drift is not None and gender.drift.psi == 0 and gender.last_run is not None
    report = value_report(pg_stores)
    assert "gender" not in report.stale and "lifecycle" in report.stale  # never computed
