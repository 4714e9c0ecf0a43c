"""The built-in library on the Online Retail data, checked against an independent pandas computation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.ingest.logic import import_online_retail
from tagora.profiles import facade as profiles
from tagora.tags.library import install_library, library_definitions
from tagora.tags.runs import compute_tags
from tests.conftest import ONLINE_RETAIL, make_settings, need

AS_OF = date(2011, 9, 30)  # the data's last day
END = datetime(2011, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    need(ONLINE_RETAIL.exists(), f"{ONLINE_RETAIL} is missing")
    stores = open_stores(make_settings(tmp_path_factory.mktemp("or-tags") / "home"))
    import_online_retail(stores, CLI_OPERATOR, ONLINE_RETAIL)
    install_library(stores.sessions, CLI_OPERATOR)
    run = compute_tags(stores, as_of=AS_OF)
    assert run.status == "succeeded", run.errors
    yield stores
    stores.close()


def values(stores: Stores, tag: str, run_id: int | None = None) -> dict[int, object]:
    t = stores.warehouse.table("tag_values" if run_id is None else "tag_value_history")
    t = t.filter(t.tag == tag) if run_id is None else t.filter((t.tag == tag) & (t.run_id == run_id))
    rows = t.select("uid", "value", "number").to_pyarrow().to_pylist()
    return {r["uid"]: r["number"] if r["value"] is None else r["value"] for r in rows}


def expected(stores: Stores) -> pd.DataFrame:
    """Per-customer figures from the raw orders with pandas (no Ibis, no tag code)."""
    orders = stores.warehouse.table("orders").to_pandas()
    with stores.sessions() as session:
        count = int(profiles.store_counts(session, stores.warehouse)["customers"])
    customers = pd.Index(range(1, count + 1), name="uid")  # uids are dense
    buys = orders[(orders.kind == "purchase") & (orders.ordered_at < END)].copy()
    buys["amount"] = buys.amount.astype(float)

    def within(days: int) -> pd.DataFrame:
        return buys[buys.ordered_at >= END - timedelta(days=days)]

    out = pd.DataFrame(index=customers)
    out["monetary_90d"] = within(90).groupby("uid").amount.sum().reindex(customers).fillna(0.0)
    out["orders_365d"] = within(365).groupby("uid").size().reindex(customers).fillna(0).astype(float)
    last = buys.groupby("uid").ordered_at.max().reindex(customers)
    first = buys.groupby("uid").ordered_at.min().reindex(customers)
    out["recency_days"] = [
        None if pd.isna(t) else float((AS_OF - t.tz_convert("UTC").date()).days) for t in last
    ]
    out["first_days"] = [None if pd.isna(t) else (AS_OF - t.tz_convert("UTC").date()).days for t in first]
    cancels = orders[(orders.kind == "cancellation") & (orders.ordered_at < END)].groupby("uid").size()
    counts = buys.groupby("uid").size()
    out["returns_rate"] = (cancels.reindex(counts.index).fillna(0) / counts).reindex(customers)
    out["lifecycle"] = [_lifecycle(r) for r in out.itertuples()]
    return out


def _lifecycle(row: object) -> str | None:
    recency, first, orders = row.recency_days, row.first_days, row.orders_365d  # type: ignore[attr-defined]
    if recency is None or pd.isna(recency):
        return None
    if first <= 30:
        return "new"
    for limit, stage in ((365, "lost"), (180, "dormant"), (90, "churning")):
        if recency > limit:
            return stage
    return "loyal" if orders >= 5 else "active"


@pytest.mark.slow
def test_the_library_has_at_least_thirty_tags_and_all_compute() -> None:
    assert len(library_definitions()) >= 30


@pytest.mark.slow
@pytest.mark.parametrize("tag", ["monetary_90d", "orders_365d", "recency_days", "returns_rate", "lifecycle"])
def test_library_tags_match_pandas_for_every_customer(computed: Stores, tag: str) -> None:
    want = expected(computed)[tag].dropna().to_dict()
    got = values(computed, tag)
    assert len(want) > 3000
    assert set(got) == set(want)
    for uid, value in want.items():
        if isinstance(value, float):
            assert got[uid] == pytest.approx(value, rel=1e-9, abs=1e-6), uid
        else:
            assert got[uid] == value, uid


@pytest.mark.slow
def test_every_stage_of_the_lifecycle_occurs_and_derived_rule_tags_follow_it(computed: Stores) -> None:
    lifecycle = values(computed, "lifecycle")
    assert set(lifecycle.values()) == {"new", "active", "loyal", "churning", "dormant"}  # < 1 year of data
    churn = values(computed, "churn_risk")
    assert all(churn[u] == "high" for u, stage in lifecycle.items() if stage == "dormant")
    assert all(churn[u] == "low" for u, stage in lifecycle.items() if stage in ("new", "active", "loyal"))


@pytest.mark.slow
def test_recomputing_some_customers_changes_only_theirs_and_each_run_keeps_a_snapshot(
    computed: Stores,
) -> None:
    before = values(computed, "monetary_90d")
    recency = values(computed, "recency_days")
    # Customers whose last purchase was before 30 June and customers who bought after it.
    some = (
        sorted(u for u, r in recency.items() if r >= 92)[:15]
        + sorted(u for u, r in recency.items() if r < 92)[:10]
    )
    run = compute_tags(computed, tags=["lifecycle"], uids=some, as_of=date(2011, 6, 30))
    assert run.status == "succeeded" and run.customers == 25
    assert "recency_days" in run.tags  # computed because lifecycle reads it
    after = values(computed, "recency_days")
    earlier = values(computed, "recency_days", run.id)
    assert len(earlier) > 0 and set(earlier) <= set(some), earlier
    assert all(after[u] == earlier[u] for u in earlier)
    untouched = [u for u in after if u not in some]
    assert values(computed, "monetary_90d") == before  # not in the run
    first = values(computed, "recency_days", 1)
    assert all(after[u] == first[u] for u in untouched)
    # As of 30 June, a customer whose last purchase was before then is 92 days less "recent".
    old = [u for u in earlier if first[u] is not None and first[u] >= 92]
    assert len(old) == 15
    assert all(earlier[u] == first[u] - 92 for u in old)
