"""Customers and orders for the console tests, written through the real stores."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa

from tagora.core.auth import CLI_OPERATOR
from tagora.core.db import transaction
from tagora.core.stores import Stores
from tagora.profiles import logic
from tagora.profiles.models import ORDERS
from tagora.profiles.schemas import InteractionCreate

CUSTOMERS = [
    {"customer_key": "C001", "name": "Alice Wang", "phone": "13812341234", "email": "alice@example.com",
     "country": "CN", "province": "上海市", "city": "上海", "member_tier": "gold"},
    {"customer_key": "C002", "name": "李娜", "phone": "13900005678", "email": "lina@example.cn",
     "country": "CN", "province": "广东省", "city": "深圳", "member_tier": "silver"},
    {"customer_key": "C003", "name": "<script>alert(1)</script>", "email": "bob@example.org",
     "country": "US"},
    {"customer_key": "A/B 7", "name": "Carol Slash", "country": "GB", "city": "London"},
]  # fmt: skip

# order_id, kind, customer_key, (year, month, day), line_count, amount
ORDER_ROWS = [
    ("O1", "purchase", "C001", (2026, 1, 5), 2, "120.50"),
    ("O2", "purchase", "C001", (2026, 2, 9), 1, "79.50"),
    ("O3", "purchase", "C002", (2026, 2, 11), 3, "1000.00"),
    ("R1", "cancellation", "C001", (2026, 2, 12), 1, "-79.50"),
    ("O4", "purchase", "C002", (2026, 3, 1), 1, "15.00"),
]


def seed(stores: Stores) -> dict[str, int]:
    with transaction(stores.sessions) as session:
        uids = logic.upsert_customers(session, CLI_OPERATOR, CUSTOMERS, "test")
    columns: dict[str, list[object]] = {name: [] for name in ORDERS.names}
    for order_id, kind, key, day, lines, amount in ORDER_ROWS:
        columns["order_id"].append(order_id)
        columns["source"].append("test")
        columns["kind"].append(kind)
        columns["uid"].append(uids[key])
        columns["origin_uid"].append(uids[key])
        columns["ordered_at"].append(datetime(*day, 9, 30, tzinfo=UTC))
        columns["channel"].append("web")
        columns["country"].append("CN")
        columns["line_count"].append(lines)
        columns["amount"].append(Decimal(amount))
    stores.warehouse.insert("orders", pa.table(columns, schema=ORDERS.to_pyarrow()))
    logic.add_interaction(
        stores.sessions, CLI_OPERATOR, "C001", InteractionCreate(kind="call", body="asked about <b>sizes</b>")
    )
    return uids
