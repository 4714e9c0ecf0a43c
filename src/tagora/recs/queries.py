"""Reads of the store this area learns from: order lines and events (warehouse), products (profiles)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.recs.interactions import EVENT_BEHAVIOURS

COLUMNS = ["uid", "sku", "behaviour", "at", "basket"]


def store_behaviours(stores: Stores, until: datetime | None = None) -> pd.DataFrame:
    """Purchases (one basket per order) and product events, as behaviours; cancellations are left out."""
    lines = stores.warehouse.table("order_lines")
    lines = lines.filter(lines.kind == profiles.PURCHASE, lines.sku.notnull(), lines.quantity > 0)
    if until is not None:
        lines = lines.filter(lines.ordered_at <= until)
    bought = lines.select(
        uid=lines.uid, sku=lines.sku, at=lines.ordered_at, basket=lines.order_id
    ).to_pandas()
    bought["behaviour"] = "purchase"
    events = stores.warehouse.table("events")
    events = events.filter(
        events.event.isin(list(EVENT_BEHAVIOURS)), events.sku.notnull(), events.uid.notnull()
    )
    if until is not None:
        events = events.filter(events.occurred_at <= until)
    seen = events.select(
        uid=events.uid, sku=events.sku, at=events.occurred_at, event=events.event
    ).to_pandas()
    seen["behaviour"] = seen.pop("event").map(EVENT_BEHAVIOURS)
    seen["basket"] = ""
    frame = pd.concat([bought[COLUMNS], seen[COLUMNS]], ignore_index=True)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def catalogue(stores: Stores) -> pd.DataFrame:
    with stores.sessions() as session:
        rows = profiles.product_catalogue(session)
    return pd.DataFrame(rows, columns=["sku", "name", "category_path", "brand", "price"])
