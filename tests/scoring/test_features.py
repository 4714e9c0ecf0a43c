"""Warehouse features read nothing after the cutoff, so the same code trains early and scores later."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from tagora.core.stores import Stores
from tagora.scoring import features, pipeline

CUTOFF = date(2025, 9, 30)


def add_order(stores: Stores, uid: int, at: datetime, amount: str) -> None:
    stores.warehouse.insert(
        "orders",
        pa.table(
            {
                "order_id": [f"late-{uid}-{at.isoformat()}"],
                "source": ["test"],
                "kind": ["purchase"],
                "uid": [uid],
                "origin_uid": [uid],
                "ordered_at": pa.array([at], pa.timestamp("us", tz="UTC")),
                "channel": ["web"],
                "country": ["CN"],
                "line_count": [1],
                "amount": pa.array([Decimal(amount)], pa.decimal128(18, 4)),
            }
        ),
    )


def snapshot(stores: Stores) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame]:
    X, y = pipeline.training_set(stores.warehouse, CUTOFF, 60)
    value = pipeline.fit_value_models(stores.warehouse, CUTOFF)
    return features.behaviour_features(stores.warehouse, CUTOFF), X, y, value.summary


def test_facts_after_the_cutoff_change_no_feature_label_or_summary(shop: Stores) -> None:
    before = snapshot(shop)
    uids = before[0].index[:5].tolist()
    for uid in uids:
        add_order(shop, uid, datetime.combine(CUTOFF + timedelta(days=1), time(), tzinfo=UTC), "999.00")
        add_order(shop, uid, datetime(2026, 3, 1, tzinfo=UTC), "5.00")
    after = snapshot(shop)
    for old, new in zip(before, after, strict=True):
        if isinstance(old, pd.Series):
            pd.testing.assert_series_equal(old, new)
        else:
            pd.testing.assert_frame_equal(old, new)


def test_a_purchase_late_on_the_cutoff_day_counts_and_one_just_after_does_not(shop: Stores) -> None:
    uid = int(features.behaviour_features(shop.warehouse, CUTOFF).index[0])
    orders = features.behaviour_features(shop.warehouse, CUTOFF).loc[uid, "orders"]
    add_order(shop, uid, datetime.combine(CUTOFF, time(23, 59, 59), tzinfo=UTC), "10.00")
    add_order(shop, uid, datetime.combine(CUTOFF + timedelta(days=1), time(), tzinfo=UTC), "10.00")
    row = features.behaviour_features(shop.warehouse, CUTOFF).loc[uid]
    assert row["orders"] == orders + 1
    assert row["recency_days"] == pytest.approx(1 / 86400)  # one second before the end of the cutoff day


def test_churn_labels_mark_customers_without_a_purchase_in_the_horizon(shop: Stores) -> None:
    X = features.behaviour_features(shop.warehouse, CUTOFF)
    labels = pipeline.churn_labels(shop.warehouse, X.index, CUTOFF, 60)
    bought = features.purchase_days_between(shop.warehouse, CUTOFF, CUTOFF + timedelta(days=60))
    assert set(labels[labels == 0].index) == set(bought.index) & set(X.index)
    assert 0 < labels.mean() < 1
