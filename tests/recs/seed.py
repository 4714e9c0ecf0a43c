"""A tiny store with two kinds of shoppers, written through the real stores (SQLite + DuckDB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa

from tagora.core.auth import CLI_OPERATOR
from tagora.core.db import transaction
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles

KITCHEN = [f"K{i}" for i in range(1, 6)]  # home/kitchen, prices 5..25
GARDEN = [f"G{i}" for i in range(1, 6)]  # garden/tools, prices 50..250
START = datetime(2026, 1, 1, 9, tzinfo=UTC)


def products() -> list[dict[str, object]]:
    kitchen = [
        {
            "sku": s,
            "name": f"Kitchen thing {s}",
            "category_path": "home/kitchen",
            "brand": "Cook",
            "price": 5 * (i + 1),
        }
        for i, s in enumerate(KITCHEN)
    ]
    garden = [
        {
            "sku": s,
            "name": f"Garden tool {s}",
            "category_path": "garden/tools",
            "brand": "Dig",
            "price": 50 * (i + 1),
        }
        for i, s in enumerate(GARDEN)
    ]
    return kitchen + garden


def seed(stores: Stores) -> dict[str, int]:
    """Cooks (KC00..KC19) buy three kitchen items, gardeners (GD00..GD19) three garden tools; NEW nothing."""
    keys = [f"KC{i:02d}" for i in range(20)] + [f"GD{i:02d}" for i in range(20)] + ["NEW"]
    with transaction(stores.sessions) as session:
        uids = profiles.upsert_customers(session, CLI_OPERATOR, [{"customer_key": k} for k in keys], "test")
        profiles.upsert_products(session, CLI_OPERATOR, products(), "test")
    columns: dict[str, list[object]] = {name: [] for name in profiles.ORDER_LINES.names}
    for n, key in enumerate(keys[:-1]):
        items = KITCHEN if key.startswith("KC") else GARDEN
        picks = [items[(n + j) % 5] for j in range(3)]
        if key == "KC00":
            picks = ["K1", "K2", "K3", "K1"]  # K1 twice: a habit
        for line, sku in enumerate(picks):
            at = START + timedelta(days=7 * line + n % 7)
            columns["order_id"].append(f"{key}-{line}")
            columns["source"].append("test")
            columns["line_no"].append(1)
            columns["kind"].append("purchase")
            columns["uid"].append(uids[key])
            columns["origin_uid"].append(uids[key])
            columns["ordered_at"].append(at)
            columns["sku"].append(sku)
            columns["quantity"].append(1)
            columns["unit_price"].append(Decimal("1"))
            columns["amount"].append(Decimal("1"))
    stores.warehouse.insert("order_lines", pa.table(columns, schema=profiles.ORDER_LINES.to_pyarrow()))
    events: dict[str, list[object]] = {name: [] for name in profiles.EVENTS.names}
    for i, (key, sku) in enumerate([("GD00", "K5")] * 30):  # many views of a kitchen item by a gardener
        events["event_id"].append(f"e{i}")
        events["uid"].append(uids[key])
        events["origin_uid"].append(uids[key])
        events["anonymous_id"].append(None)
        events["event"].append("product_view")
        events["occurred_at"].append(START + timedelta(days=20, minutes=i))
        events["channel"].append("web")
        events["sku"].append(sku)
        events["properties"].append("{}")
    stores.warehouse.insert("events", pa.table(events, schema=profiles.EVENTS.to_pyarrow()))
    return uids
