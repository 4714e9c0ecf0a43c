"""Behaviour features per customer computed with Ibis over the warehouse, using only data up to a cutoff.

``cutoff`` is the last day observed (inclusive, UTC calendar day). Nothing here reads a fact dated after
it, so the same code trains on an earlier cutoff and scores on a later one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tagora.profiles.facade import CANCELLATION, PURCHASE

WINDOWS = (30, 90, 180)
DAY_SECONDS = 86400.0


def day_end(day: date) -> datetime:
    """The first instant after ``day`` (UTC): facts strictly before it are observed."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def _before(table: ibis.Table, column: str, cutoff: date) -> ibis.Table:
    return table.filter(table[column] < ibis.literal(day_end(cutoff)))


def purchases(warehouse: BaseBackend, cutoff: date) -> pd.DataFrame:
    """uid, ordered_at, amount of every purchase up to ``cutoff``."""
    orders = _before(warehouse.table("orders"), "ordered_at", cutoff)
    orders = orders.filter(orders.kind == PURCHASE)
    # In one order, so that float sums made from it are the same from any two imports of the same data.
    orders = orders.order_by(["uid", "ordered_at", "order_id"])
    return orders.select("uid", "ordered_at", amount=orders.amount.cast("float64")).to_pandas()


def purchase_days_between(warehouse: BaseBackend, after: date, until: date) -> pd.Series:
    """Distinct purchase days per uid in the days after ``after`` up to ``until`` (both UTC days)."""
    orders = warehouse.table("orders")
    window = orders.filter(
        (orders.kind == PURCHASE)
        & (orders.ordered_at >= ibis.literal(day_end(after)))
        & (orders.ordered_at < ibis.literal(day_end(until)))
    )
    counts = window.group_by("uid").aggregate(days=window.ordered_at.date().nunique()).to_pandas()
    return counts.set_index("uid")["days"].astype(np.float64)


def first_purchase_after(warehouse: BaseBackend, after: date, until: date) -> pd.Series:
    """Days from the end of ``after`` to each uid's first purchase up to the end of ``until``."""
    orders = warehouse.table("orders")
    start = ibis.literal(day_end(after))
    window = orders.filter(
        (orders.kind == PURCHASE)
        & (orders.ordered_at >= start)
        & (orders.ordered_at < ibis.literal(day_end(until)))
    )
    wait = (window.ordered_at.epoch_seconds() - start.epoch_seconds()) / DAY_SECONDS
    first = window.group_by("uid").aggregate(days=wait.min()).to_pandas()
    return first.set_index("uid")["days"].astype(np.float64)


def _order_features(warehouse: BaseBackend, cutoff: date) -> ibis.Table:
    orders = _before(warehouse.table("orders"), "ordered_at", cutoff)
    end = ibis.literal(day_end(cutoff))
    age = (end.epoch_seconds() - orders.ordered_at.epoch_seconds()) / DAY_SECONDS
    buy = orders.kind == PURCHASE
    amount = orders.amount  # decimal: exact sums in any row order (tags/facts.py says why that matters)

    def money(total: ibis.Value) -> ibis.Value:
        return total.cast("float64")

    metrics: dict[str, ibis.Value] = {
        "recency_days": age.min(where=buy),
        "tenure_days": age.max(where=buy),
        "orders": buy.sum(),
        "purchase_days": orders.ordered_at.date().nunique(where=buy),
        "monetary": money(amount.sum(where=buy)),
        "max_order_value": money(amount.max(where=buy)),
        "cancellations": (orders.kind == CANCELLATION).sum(),
        "cancelled_amount": money(amount.abs().sum(where=orders.kind == CANCELLATION)),
        "channels": orders.channel.nunique(where=buy),
    }
    for days in WINDOWS:
        inside = buy & (age < days)
        metrics[f"orders_{days}d"] = inside.sum()
        metrics[f"monetary_{days}d"] = money(amount.sum(where=inside))
    previous = buy & (age >= 90) & (age < 180)
    metrics["orders_prev_90d"] = previous.sum()
    metrics["monetary_prev_90d"] = money(amount.sum(where=previous))
    return orders.group_by("uid").aggregate(**metrics)


def _line_features(warehouse: BaseBackend, cutoff: date) -> ibis.Table:
    lines = _before(warehouse.table("order_lines"), "ordered_at", cutoff)
    lines = lines.filter(lines.kind == PURCHASE)
    return lines.group_by("uid").aggregate(distinct_skus=lines.sku.nunique(), units=lines.quantity.sum())


def _event_features(warehouse: BaseBackend, cutoff: date) -> ibis.Table:
    events = _before(warehouse.table("events"), "occurred_at", cutoff)
    events = events.filter(events.uid.notnull())
    recent = events.occurred_at >= ibis.literal(day_end(cutoff) - timedelta(days=30))
    return events.group_by("uid").aggregate(events_total=events.count(), events_30d=recent.sum())


def behaviour_features(warehouse: BaseBackend, cutoff: date) -> pd.DataFrame:
    """One row per customer with a purchase up to ``cutoff``, indexed by uid; all columns numeric."""
    frame = _order_features(warehouse, cutoff).to_pandas().set_index("uid")
    frame = frame[frame["orders"] > 0]
    for extra in (_line_features(warehouse, cutoff), _event_features(warehouse, cutoff)):
        frame = frame.join(extra.to_pandas().set_index("uid"), how="left")
    frame = frame.astype(np.float64).fillna(0.0)
    frame["avg_order_value"] = frame["monetary"] / frame["orders"]
    frame["order_trend"] = (frame["orders_90d"] + 1) / (frame["orders_prev_90d"] + 1)
    frame["spend_trend"] = (frame["monetary_90d"] + 1) / (frame["monetary_prev_90d"] + 1)
    frame["days_between_purchases"] = np.where(
        frame["purchase_days"] > 1,
        (frame["tenure_days"] - frame["recency_days"]) / (frame["purchase_days"] - 1).clip(lower=1),
        frame["tenure_days"],
    )
    frame["cancellation_share"] = frame["cancellations"] / (frame["orders"] + frame["cancellations"])
    return frame.sort_index()
