"""The built-in tag library on synthetic customers vs. hand-written DuckDB SQL for the same aggregations.

python benchmarks/tags.py [--scale small|full]

full: 1M customers, 4M orders, 8M order lines, 10M events (22M facts), stored clustered by customer.
Targets (issue 4): tagora under 30 s and within 1.5x of the hand-written SQL. The data is generated in a
child process, so the peak RSS reported is that of the computation (tagora and the SQL baseline).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.profiles import facade as profiles
from tagora.settings import Settings
from tagora.tags.library import install_library, library_definitions
from tagora.tags.runs import compute_tags

AS_OF = date(2026, 10, 31)
END = datetime(2026, 11, 1, tzinfo=UTC)
SCALES = {"small": 20_000, "full": 1_000_000}
CATEGORIES = ("服装", "美妆个护", "数码电器", "食品生鲜", "家居家装", "母婴", "运动户外", "图书")
CHANNELS = ("app", "web", "wechat_mini_program", "store")
EVENT_NAMES = ("page_view", "login", "search", "product_view", "add_to_cart", "checkout")
N_SKUS = 2_000


def settings(home: Path) -> Settings:
    return Settings(env="test", home=home, secret_key="bench-secret-key-0123456789")


# ---------------------------------------------------------------- data (child process)


def _times(rng: np.random.Generator, n: int, days: int) -> pa.Array:
    seconds = rng.integers(0, days * 86_400, n)
    stamps = (END.timestamp() - seconds) * 1_000_000
    return pa.array(stamps.astype("int64"), pa.timestamp("us", tz="UTC"))


def _customers(stores: Stores, rng: np.random.Generator, n: int) -> None:
    table = sa.table(
        "customers",
        *(
            sa.column(c)
            for c in (
                "uid",
                "customer_key",
                "gender",
                "birthday",
                "member_tier",
                "country",
                "source_channel",
                "registered_at",
                "created_at",
                "updated_at",
            )
        ),
    )
    gender = rng.choice(["F", "M"], n)
    tiers = rng.choice(["normal", "silver", "gold", "diamond"], n, p=[0.6, 0.25, 0.1, 0.05])
    born = rng.integers(0, 60 * 365, n)
    now = datetime.now(UTC)
    with stores.engine.begin() as conn:
        for start in range(0, n, 50_000):
            rows = [
                {
                    "uid": i + 1,
                    "customer_key": f"c{i + 1}",
                    "gender": gender[i],
                    "birthday": date(1950, 1, 1) + timedelta(days=int(born[i])),
                    "member_tier": tiers[i],
                    "country": "CN",
                    "source_channel": CHANNELS[i % 4],
                    "registered_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(n, start + 50_000))
            ]
            conn.execute(sa.insert(table), rows)


def _products(stores: Stores, rng: np.random.Generator) -> np.ndarray:
    price = np.round(np.exp(rng.normal(4.5, 1.0, N_SKUS)), 2)
    rows = [
        {
            "sku": f"S{i:05d}",
            "name": f"product {i}",
            "category_path": f"{CATEGORIES[i % len(CATEGORIES)]}/x/y",
            "price": float(price[i]),
        }
        for i in range(N_SKUS)
    ]
    with stores.sessions() as session, session.begin():
        profiles.upsert_products(session, CLI_OPERATOR, rows, "bench")
    return price


def _insert(stores: Stores, name: str, schema: Any, columns: dict[str, Any], uid: np.ndarray) -> None:
    order = np.argsort(uid, kind="stable")  # clustered by customer
    data = {k: (v.take(pa.array(order)) if isinstance(v, pa.Array) else v[order]) for k, v in columns.items()}
    data["origin_uid"] = data["uid"]
    table = pa.table({k: data.get(k, pa.nulls(len(uid), pa.string())) for k in schema.names})
    con = stores.warehouse
    con.create_table("_bench_load", table, temp=True, overwrite=True)
    con.insert(name, con.table("_bench_load").cast(schema))
    con.drop_table("_bench_load")


def generate(home: Path, n: int, seed: int = 7) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    stores = open_stores(settings(home))
    try:
        _customers(stores, rng, n)
        base_price = _products(stores, rng)
        # Long-tailed activity: a few customers buy and browse far more than most.
        activity = rng.pareto(1.5, n) + 0.2
        activity /= activity.sum()
        n_orders, n_events = 4 * n, 10 * n
        order_uid = rng.choice(n, n_orders, p=activity) + 1
        lines_per = rng.integers(1, 4, n_orders)
        line_order = np.repeat(np.arange(n_orders), lines_per)
        n_lines = len(line_order)
        sku = np.minimum(rng.zipf(1.3, n_lines) - 1, N_SKUS - 1)
        discount = np.where(rng.random(n_lines) < 0.3, rng.uniform(0.6, 0.9, n_lines), 1.0)
        unit_price = np.round(base_price[sku] * discount, 2)
        quantity = rng.integers(1, 4, n_lines)
        amount = np.round(unit_price * quantity, 2)
        kind = np.where(rng.random(n_orders) < 0.95, "purchase", "cancellation")
        order_time = _times(rng, n_orders, 730)
        order_ids = np.char.add("o", np.arange(n_orders).astype(str))
        channel = rng.choice(CHANNELS, n_orders)
        _insert(
            stores,
            "order_lines",
            profiles.ORDER_LINES,
            {
                "order_id": order_ids[line_order],
                "source": np.full(n_lines, "bench"),
                "line_no": np.ones(n_lines, "int64"),
                "kind": kind[line_order],
                "uid": order_uid[line_order],
                "ordered_at": order_time.take(pa.array(line_order)),
                "sku": np.char.add("S", np.char.zfill(sku.astype(str), 5)),
                "quantity": quantity,
                "unit_price": unit_price,
                "amount": amount,
            },
            order_uid[line_order],
        )
        order_amount = np.bincount(line_order, weights=amount, minlength=n_orders)
        _insert(
            stores,
            "orders",
            profiles.ORDERS,
            {
                "order_id": order_ids,
                "source": np.full(n_orders, "bench"),
                "kind": kind,
                "uid": order_uid,
                "ordered_at": order_time,
                "channel": channel,
                "country": np.full(n_orders, "CN"),
                "line_count": lines_per,
                "amount": np.round(order_amount, 2),
            },
            order_uid,
        )
        event_uid = rng.choice(n, n_events, p=activity) + 1
        names = rng.choice(EVENT_NAMES, n_events, p=[0.35, 0.05, 0.1, 0.35, 0.1, 0.05])
        event_sku = np.minimum(rng.zipf(1.3, n_events) - 1, N_SKUS - 1)
        has_sku = np.isin(names, ["product_view", "add_to_cart"])
        skus = np.where(has_sku, np.char.add("S", np.char.zfill(event_sku.astype(str), 5)), None)
        _insert(
            stores,
            "events",
            profiles.EVENTS,
            {
                "event_id": np.char.add("e", np.arange(n_events).astype(str)),
                "uid": event_uid,
                "event": names,
                "occurred_at": _times(rng, n_events, 365),
                "channel": rng.choice(CHANNELS, n_events),
                "sku": skus,
            },
            event_uid,
        )
        install_library(stores.sessions, CLI_OPERATOR)
        return {"customers": n, "orders": n_orders, "order_lines": n_lines, "events": n_events}
    finally:
        stores.close()


# ---------------------------------------------------------------- hand-written SQL baseline

BASELINE_SQL = """
CREATE OR REPLACE TEMP TABLE sql_products AS
  SELECT sku, NULLIF(split_part(category_path, '/', 1), '') AS category FROM prod;
CREATE OR REPLACE TEMP TABLE sql_result AS
WITH o AS (
  SELECT uid,
    date_diff('day', max(ordered_at) FILTER (WHERE {buy})::DATE, {day}) AS recency_days,
    date_diff('day', min(ordered_at) FILTER (WHERE {buy})::DATE, {day}) AS first_order_days,
    count(*) FILTER (WHERE {buy} AND ordered_at >= {e} - INTERVAL 30 DAY) AS orders_30d,
    count(*) FILTER (WHERE {buy} AND ordered_at >= {e} - INTERVAL 90 DAY) AS orders_90d,
    count(*) FILTER (WHERE {buy365}) AS orders_365d,
    count(*) FILTER (WHERE {buy}) AS orders_total,
    sum(amount::DOUBLE) FILTER (WHERE {buy} AND ordered_at >= {e} - INTERVAL 30 DAY) AS monetary_30d,
    sum(amount::DOUBLE) FILTER (WHERE {buy} AND ordered_at >= {e} - INTERVAL 90 DAY) AS monetary_90d,
    sum(amount::DOUBLE) FILTER (WHERE {buy365}) AS monetary_365d,
    sum(amount::DOUBLE) FILTER (WHERE {buy}) AS monetary_total,
    avg(amount::DOUBLE) FILTER (WHERE {buy365}) AS avg_order_value_365d,
    max(amount::DOUBLE) FILTER (WHERE {buy}) AS max_order_value,
    count(*) FILTER (WHERE kind = 'cancellation') AS cancellations,
    mode(channel) FILTER (WHERE {buy365}) AS preferred_channel,
    count(*) FILTER (WHERE {buy365} AND isodow(ordered_at) >= 6) AS weekend_orders,
    mode(hour(ordered_at)) FILTER (WHERE {buy365}) AS hour_mode
  FROM orders WHERE ordered_at < {e} GROUP BY uid
), lines AS (
  SELECT l.uid, l.kind, l.ordered_at, l.quantity, p.category,
         l.unit_price::DOUBLE
           / NULLIF(avg(l.unit_price::DOUBLE) OVER (PARTITION BY l.sku), 0) AS relative_price
  FROM order_lines l LEFT JOIN sql_products p USING (sku) WHERE l.ordered_at < {e}
), l AS (
  SELECT uid,
    sum(quantity) FILTER (WHERE {buy365}) AS items_365d,
    count(DISTINCT category) FILTER (WHERE {buy365}) AS categories_365d,
    mode(category) FILTER (WHERE {buy365}) AS preferred_category,
    count(*) FILTER (WHERE {buy365} AND relative_price < 0.9) AS discounted,
    count(*) FILTER (WHERE {buy365}) AS lines_365d
  FROM lines GROUP BY uid
), ev AS (
  SELECT uid,
    count(*) FILTER (WHERE occurred_at >= {e} - INTERVAL 30 DAY) AS events_30d,
    count(*) FILTER (WHERE event = 'product_view' AND occurred_at >= {e} - INTERVAL 30 DAY) AS views_30d,
    count(*) FILTER (WHERE event = 'add_to_cart' AND occurred_at >= {e} - INTERVAL 30 DAY) AS cart_adds_30d,
    date_diff('day', max(occurred_at)::DATE, {day}) AS days_since_visit
  FROM events WHERE occurred_at < {e} GROUP BY uid
)
SELECT c.uid,
  CASE c.gender WHEN 'F' THEN 'female' WHEN 'M' THEN 'male' ELSE c.gender END AS gender,
  date_sub('year', c.birthday::DATE, {day}) AS age, c.member_tier, c.country,
  c.source_channel AS acquisition_channel,
  date_diff('day', c.registered_at::TIMESTAMPTZ::DATE, {day}) AS tenure_days,
  o.recency_days, o.first_order_days, coalesce(o.orders_30d, 0) AS orders_30d,
  coalesce(o.orders_90d, 0) AS orders_90d, coalesce(o.orders_365d, 0) AS orders_365d,
  coalesce(o.orders_total, 0) AS orders_total, coalesce(o.monetary_30d, 0) AS monetary_30d,
  coalesce(o.monetary_90d, 0) AS monetary_90d, coalesce(o.monetary_365d, 0) AS monetary_365d,
  coalesce(o.monetary_total, 0) AS monetary_total, o.avg_order_value_365d, o.max_order_value,
  o.cancellations / NULLIF(o.orders_total, 0) AS returns_rate, o.preferred_channel,
  CASE WHEN o.weekend_orders / NULLIF(o.orders_365d, 0) < 0.5 THEN 'weekday'
       WHEN o.orders_365d > 0 THEN 'weekend' END AS weekend_shopper,
  CASE WHEN o.hour_mode < 6 THEN 'night' WHEN o.hour_mode < 12 THEN 'morning'
       WHEN o.hour_mode < 18 THEN 'afternoon' WHEN o.hour_mode < 22 THEN 'evening'
       WHEN o.hour_mode IS NOT NULL THEN 'night' END AS shopping_time,
  CASE WHEN coalesce(o.monetary_365d, 0) < 1000 THEN 'low' WHEN o.monetary_365d < 5000 THEN 'medium'
       ELSE 'high' END AS value_tier,
  coalesce(l.items_365d, 0) AS items_365d, l.categories_365d, l.preferred_category,
  CASE WHEN l.discounted / NULLIF(l.lines_365d, 0) < 0.2 THEN 'low'
       WHEN l.discounted / NULLIF(l.lines_365d, 0) < 0.5 THEN 'medium'
       WHEN l.lines_365d > 0 THEN 'high' END AS price_sensitivity,
  coalesce(ev.events_30d, 0) AS events_30d, coalesce(ev.views_30d, 0) AS product_views_30d,
  coalesce(ev.cart_adds_30d, 0) AS cart_adds_30d, ev.days_since_visit,
  CASE WHEN o.first_order_days <= 30 THEN 'new' WHEN o.recency_days > 365 THEN 'lost'
       WHEN o.recency_days > 180 THEN 'dormant' WHEN o.recency_days > 90 THEN 'churning'
       WHEN o.orders_365d >= 5 THEN 'loyal' WHEN o.recency_days IS NOT NULL THEN 'active' END AS lifecycle
FROM cust c LEFT JOIN o USING (uid) LEFT JOIN l USING (uid) LEFT JOIN ev USING (uid);
CREATE OR REPLACE TEMP TABLE sql_result AS SELECT *,
  CASE WHEN age < 18 THEN 'under_18' WHEN age < 25 THEN '18_24' WHEN age < 35 THEN '25_34'
       WHEN age < 45 THEN '35_44' WHEN age < 55 THEN '45_54'
       WHEN age IS NOT NULL THEN '55_plus' END AS age_band,
  CASE WHEN orders_365d < 1 THEN 'none' WHEN orders_365d < 2 THEN 'once'
       WHEN orders_365d < 4 THEN 'occasional'
       WHEN orders_365d < 12 THEN 'regular' ELSE 'frequent' END AS purchase_frequency,
  CASE WHEN categories_365d < 1 THEN 'unknown' WHEN categories_365d < 2 THEN 'single_category'
       WHEN categories_365d IS NOT NULL THEN 'cross_category' END AS cross_category_buyer,
  CASE WHEN events_30d >= 20 THEN 'high' WHEN events_30d >= 5 THEN 'medium' WHEN events_30d >= 1 THEN 'low'
       ELSE 'inactive' END AS engagement_level,
  coalesce(orders_total >= 2, false) AS repeat_buyer,
  coalesce(returns_rate >= 0.3 AND orders_total >= 3, false) AS high_returner,
  CASE WHEN lifecycle IN ('dormant', 'lost') THEN 'high' WHEN lifecycle = 'churning' THEN 'medium'
       WHEN recency_days IS NOT NULL THEN 'low' END AS churn_risk
FROM sql_result;
CREATE OR REPLACE TEMP TABLE sql_result AS SELECT *,
  coalesce(value_tier = 'high' AND orders_365d >= 5
           AND NOT coalesce(churn_risk = 'high', false), false) AS vip
FROM sql_result;
CREATE OR REPLACE TEMP TABLE sql_interest AS
WITH s AS (
  SELECT uid, p.category, 3 * pow(0.5, (epoch({e}) - epoch(ordered_at)) / 86400 / 30) AS w
  FROM order_lines LEFT JOIN sql_products p USING (sku)
  WHERE {buy365} AND ordered_at < {e}
  UNION ALL
  SELECT uid, p.category, CASE event WHEN 'add_to_cart' THEN 2 ELSE 1 END
                          * pow(0.5, (epoch({e}) - epoch(occurred_at)) / 86400 / 30)
  FROM events LEFT JOIN sql_products p USING (sku)
  WHERE event IN ('add_to_cart', 'product_view') AND occurred_at < {e}
    AND occurred_at >= {e} - INTERVAL 365 DAY
), g AS (SELECT uid, category, sum(w) AS weight FROM s WHERE category IS NOT NULL GROUP BY ALL)
SELECT * FROM g QUALIFY row_number() OVER (PARTITION BY uid ORDER BY weight DESC, category) <= 5;
"""
# The same rows Tagora stores: the run's snapshot, one row per customer and tag (the same columns,
# ``origin_uid`` included), and the run's row per tag that publishes it.
STORE_SQL = """
CREATE OR REPLACE TABLE sql_snapshots AS
WITH nums AS (
  UNPIVOT (SELECT uid, COLUMNS(c -> c IN ({numbers}))::DOUBLE FROM sql_result)
  ON COLUMNS(* EXCLUDE (uid)) INTO NAME tag VALUE number
), texts AS (
  UNPIVOT (SELECT uid, COLUMNS(c -> c IN ({texts}))::VARCHAR FROM sql_result)
  ON COLUMNS(* EXCLUDE (uid)) INTO NAME tag VALUE value
)
SELECT uid, tag, NULL::VARCHAR AS value, number, 1.0::DOUBLE AS weight, 0::BIGINT AS run_id, uid AS origin_uid
FROM nums
UNION ALL
SELECT uid, tag, value, NULL::DOUBLE, 1.0, 0, uid FROM texts
UNION ALL
SELECT uid, 'category_interest', category, NULL, round(weight, 6), 0, uid FROM sql_interest;
CREATE OR REPLACE TABLE sql_snapshot_runs AS SELECT DISTINCT 0::BIGINT AS run_id, tag, now() AS computed_at,
  true AS everyone FROM sql_snapshots;
"""
END_SQL = "TIMESTAMPTZ '2026-11-01 00:00:00+00'"
PLACES = {
    "e": END_SQL,
    "day": f"DATE '{AS_OF.isoformat()}'",
    "buy": "kind = 'purchase'",
    "buy365": f"kind = 'purchase' AND ordered_at >= {END_SQL} - INTERVAL 365 DAY",
}


def hand_written_sql(stores: Stores) -> tuple[float, float, int]:
    """The same tags by one hand-written script: (aggregation s, total s with storing, rows stored)."""
    started = time.perf_counter()
    con = stores.warehouse.con  # type: ignore[attr-defined]
    raw = stores.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "SELECT uid, gender, birthday, member_tier, country, source_channel, registered_at FROM customers"
        )
        names = ["uid", "gender", "birthday", "member_tier", "country", "source_channel", "registered_at"]
        cust = pa.table(list(zip(*cursor.fetchall(), strict=True)), names=names)
        cursor.execute("SELECT sku, category_path FROM products")
        prod = pa.table(list(zip(*cursor.fetchall(), strict=True)), names=["sku", "category_path"])
    finally:
        raw.close()
    con.register("cust", cust)
    con.register("prod", prod)
    con.execute(BASELINE_SQL.format(**PLACES))
    aggregated = time.perf_counter() - started
    drafts = library_definitions()
    numbers = [d.code for d in drafts if d.value_type.value == "number"]
    texts = [d.code for d in drafts if d.value_type.value in ("enum", "boolean")]
    quoted = {"numbers": ", ".join(f"'{c}'" for c in numbers), "texts": ", ".join(f"'{c}'" for c in texts)}
    con.execute(STORE_SQL.format(**quoted))
    count = con.execute("SELECT count(*) FROM sql_snapshots").fetchone()[0]
    return aggregated, time.perf_counter() - started, int(count)


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=tuple(SCALES), default="full")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        print(json.dumps(generate(args.generate, args.customers)))
        return
    work = Path(tempfile.mkdtemp(prefix="tagora-bench-tags-"))
    try:
        n = SCALES[args.scale]
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, __file__, "--generate", str(work / "home"), "--customers", str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        counts = json.loads(child.stdout.strip().splitlines()[-1])
        facts = counts["orders"] + counts["order_lines"] + counts["events"]
        print(f"generated {n:,} customers and {facts:,} facts in {time.perf_counter() - started:.1f} s")
        stores = open_stores(settings(work / "home"))
        try:
            con = stores.warehouse.con  # type: ignore[attr-defined]
            # Warm DuckDB's buffers for both contenders (fixed statements).
            con.execute("SELECT count(*), max(uid) FROM orders").fetchall()
            con.execute("SELECT count(*), max(uid) FROM order_lines").fetchall()
            con.execute("SELECT count(*), max(uid) FROM events").fetchall()
            sql_aggregate_s, sql_s, sql_rows = hand_written_sql(stores)
            run = compute_tags(stores, as_of=AS_OF)
            if run.status != "succeeded":
                raise SystemExit(f"tag run failed: {run.errors}")
            tagora_s = run.duration_s or 0.0
        finally:
            stores.close()
        tags = len(library_definitions())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"hand-written DuckDB SQL, aggregations only:              {sql_aggregate_s:.2f} s")
        print(f"hand-written DuckDB SQL, aggregations + storing {sql_rows:,} rows: {sql_s:.2f} s")
        print(f"tagora compute_tags ({tags} tags, {run.values_written:,} values written): {tagora_s:.2f} s")
        print(f"ratio: {tagora_s / sql_s:.2f} (target <= 1.5; tagora target < 30 s at full scale)")
        print(f"peak RSS of this process: {peak:.0f} MB")
        print(
            json.dumps(
                {
                    "scale": args.scale,
                    "customers": n,
                    "facts": facts,
                    "tags": tags,
                    "values_written": run.values_written,
                    "tagora_s": round(tagora_s, 3),
                    "duckdb_sql_s": round(sql_s, 3),
                    "duckdb_sql_aggregate_only_s": round(sql_aggregate_s, 3),
                    "ratio": round(tagora_s / sql_s, 2),
                    "peak_rss_mb": round(peak),
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
