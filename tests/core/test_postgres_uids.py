"""The same input numbers the same customers alike on SQLite and on PostgreSQL (uids index the bitmaps)."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend
from sqlalchemy import select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.db import transaction
from tagora.core.stores import Stores, prepare_warehouse
from tagora.ingest.logic import import_online_retail
from tagora.profiles import logic
from tagora.profiles.models import Customer
from tagora.scoring import logic as scoring
from tagora.scoring.features import behaviour_features
from tagora.tags.facts import aggregate
from tagora.tags.library import install_library
from tagora.tags.models import CURRENT
from tagora.tags.runs import compute_tags
from tagora.tags.specs import Measure

SAMPLE_EVERY = 9  # about 400 customers of Online Retail's 3,658: seconds to import and score


def _uids(stores: Stores) -> dict[str, int]:
    with stores.sessions() as session:
        return dict(session.execute(select(Customer.customer_key, Customer.uid)).tuples().all())


def _upsert_in_overlapping_batches(stores: Stores) -> dict[str, int]:
    for batch in (["A", "B"], ["B", "C"], ["C", "D", "D", "E"], ["A", "F"]):
        with transaction(stores.sessions) as session:
            logic.upsert_customers(session, CLI_OPERATOR, [{"customer_key": k} for k in batch], "test")
    return _uids(stores)


@pytest.mark.postgres
def test_customers_upserted_again_take_no_numbers_on_postgresql(stores: Stores, pg_stores: Stores) -> None:
    # PostgreSQL drew a sequence number for every row an INSERT ... ON CONFLICT proposed: C became 4, not 3.
    expected = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6}
    assert _upsert_in_overlapping_batches(stores) == expected
    assert _upsert_in_overlapping_batches(pg_stores) == expected


@pytest.mark.postgres
def test_an_upsert_repeating_a_key_keeps_what_each_row_gives(pg_stores: Stores) -> None:
    rows = [{"customer_key": "K", "name": "Kim"}, {"customer_key": "K", "email": "kim@example.com"}]
    with transaction(pg_stores.sessions) as session:
        logic.upsert_customers(session, CLI_OPERATOR, rows, "test")
    with pg_stores.sessions() as session:
        kim = session.scalars(select(Customer)).one()
    assert (kim.uid, kim.name, kim.email) == (1, "Kim", "kim@example.com")


@pytest.fixture
def retail_sample(online_retail_path: Path, tmp_path: Path) -> Path:
    """Every line of one customer in SAMPLE_EVERY (all their history, so models have months to learn from)."""
    sample = tmp_path / "online_retail_sample.csv.gz"
    with (
        gzip.open(online_retail_path, "rt", encoding="utf-8", newline="") as src,
        gzip.open(sample, "wt", encoding="utf-8", newline="") as dst,
    ):
        reader, writer = csv.reader(src), csv.writer(dst)
        writer.writerow(next(reader))
        for row in reader:
            if row[6] and int(float(row[6])) % SAMPLE_EVERY == 0:
                writer.writerow(row)
    return sample


def _everything(stores: Stores, path: Path) -> tuple[dict[str, int], dict[tuple[int, str], str], int]:
    import_online_retail(stores, CLI_OPERATOR, path)
    install_library(stores.sessions, CLI_OPERATOR)
    run = compute_tags(stores)
    assert run.status == "succeeded", run.errors
    published = scoring.publish_model_tags(stores, CLI_OPERATOR, None)
    current = stores.warehouse.table(CURRENT).to_pyarrow().to_pylist()
    # Each value as text, rounded so that the last bits of a float summed in another order do not count.
    values = {
        (r["uid"], r["tag"]): json.dumps(
            [r["value"], None if r["number"] is None else round(r["number"], 9), r.get("weight")]
        )
        for r in current
    }
    return _uids(stores), values, published.published_rows


@pytest.mark.postgres
def test_online_retail_gives_the_same_uids_tags_and_model_values_on_sqlite_and_postgresql(
    stores: Stores, pg_stores: Stores, retail_sample: Path
) -> None:
    sqlite_uids, sqlite_values, sqlite_published = _everything(stores, retail_sample)
    pg_uids, pg_values, pg_published = _everything(pg_stores, retail_sample)

    assert len(sqlite_uids) > 100 and pg_uids == sqlite_uids
    assert pg_published == sqlite_published
    assert pg_values.keys() == sqlite_values.keys()
    differing = {k: (v, pg_values[k]) for k, v in sqlite_values.items() if pg_values[k] != v}
    assert not differing, dict(list(differing.items())[:10])


def _order(i: int, at: datetime, amount: Decimal) -> dict[str, object]:
    uid = 1 + i % 3
    return {"order_id": f"o{i}", "source": "t", "kind": "purchase", "uid": uid, "origin_uid": uid,
            "ordered_at": at, "channel": "web", "amount": amount}  # fmt: skip


def _warehouse_with_orders(rows: list[dict[str, object]]) -> BaseBackend:
    con = ibis.duckdb.connect()
    prepare_warehouse(con)
    schema = con.get_schema("orders")
    con.insert("orders", pa.table({n: [r.get(n) for r in rows] for n in schema.names}, schema.to_pyarrow()))
    return con


def test_the_same_orders_stored_in_another_order_give_the_same_features_and_tags_to_the_last_bit() -> None:
    # Two imports of one file store its rows in whatever order the import's threads wrote them; money
    # summed as floats then differed in its last bits (and so did the churn model trained on it).
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [_order(i, start + timedelta(hours=7 * i), Decimal(f"{i % 97}.{i % 89:02}")) for i in range(3000)]
    stored = [_warehouse_with_orders(rows), _warehouse_with_orders(rows[::-1])]
    tables = [con.table("orders") for con in stored]
    cutoff = date(2025, 12, 31)

    features = [behaviour_features(con, cutoff) for con in stored]
    pd.testing.assert_frame_equal(features[0], features[1], check_exact=True)
    total = Measure(fn="sum", field="amount")
    spend = [orders.aggregate(total=aggregate(orders, "orders", total, None)) for orders in tables]
    assert spend[0].to_pyarrow().equals(spend[1].to_pyarrow())
