"""Batch computation on hand-made customers: attributes, windows, ratios, decayed weights, the DAG."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from tagora.core.auth import CLI_OPERATOR, Principal, Role
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.tags.compute import order
from tagora.tags.library import install_library
from tagora.tags.logic import validate_draft
from tagora.tags.runs import compute_tags, runs

AS_OF = date(2026, 3, 31)
NOON = datetime(2026, 3, 31, 12, tzinfo=UTC)  # a Tuesday


def _insert(stores: Stores, table: str, schema: Any, rows: list[dict[str, Any]]) -> None:
    # Every declared column, null where a row leaves it out.
    arrow = pa.table({name: [r.get(name) for r in rows] for name in schema.names})
    stores.warehouse.insert(table, arrow)


def _line(uid: int, sku: str, days_ago: float, price: float, kind: str = "purchase") -> dict[str, Any]:
    at = NOON - timedelta(days=days_ago)
    return {"order_id": f"o{uid}-{sku}-{days_ago}", "source": "t", "line_no": 1, "kind": kind, "uid": uid,
            "ordered_at": at, "sku": sku, "quantity": 1, "unit_price": price, "amount": price}  # fmt: skip


@pytest.fixture
def shop(stores: Stores) -> Stores:
    with stores.sessions() as session, session.begin():
        people = [
            {"customer_key": "ann", "gender": "F", "birthday": date(1990, 4, 1), "member_tier": "gold"},
            {"customer_key": "bob", "gender": "M", "birthday": date(2000, 3, 31)},
            {"customer_key": "cy"},
        ]
        profiles.upsert_customers(session, CLI_OPERATOR, people, "test")
        products = [
            {"sku": "dress", "name": "Dress", "category_path": "服装/女装/连衣裙"},
            {"sku": "phone", "name": "Phone", "category_path": "数码电器/手机/智能手机"},
        ]
        profiles.upsert_products(session, CLI_OPERATOR, products, "test")
    lines = [
        _line(1, "dress", 0, 100.0),
        _line(2, "dress", 10, 60.0),  # discounted: the dress averages 80
        _line(2, "phone", 200, 1000.0),
        _line(2, "phone", 400, 1000.0),  # outside the 365-day window
        _line(2, "phone", 5, 1000.0, kind="cancellation"),
    ]
    _insert(stores, "order_lines", profiles.ORDER_LINES, lines)
    orders = [
        {k: v for k, v in r.items() if k not in ("sku", "quantity", "unit_price", "line_no")} for r in lines
    ]
    _insert(stores, "orders", profiles.ORDERS, [o | {"line_count": 1, "channel": "app"} for o in orders])
    views = [
        {"event_id": f"e{i}", "uid": 1, "event": "product_view", "sku": "phone",
         "occurred_at": NOON - timedelta(days=29.5)}
        for i in range(2)
    ]  # fmt: skip
    _insert(stores, "events", profiles.EVENTS, views)
    install_library(stores.sessions, CLI_OPERATOR)
    return stores


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
