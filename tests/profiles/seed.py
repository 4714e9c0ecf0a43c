"""A few customers with orders, cancellations, events and a note, written through the real stores."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa

from tagora.core.auth import CLI_OPERATOR
from tagora.core.db import transaction
from tagora.core.stores import Stores
from tagora.profiles import logic
from tagora.profiles.schemas import InteractionCreate

CUSTOMERS = [
    {"customer_key": "C001", "name": "张伟", "phone": "+8613812341234", "email": "zhang.wei@example.com",
     "country": "CN", "province": "广东省", "city": "深圳市", "member_tier": "gold"},
    {"customer_key": "C002", "name": "Alice Smith", "phone": "+447700900123", "email": "alice@example.com",
     "country": "GB", "city": "London", "member_tier": "silver"},
    {"customer_key": "C003", "name": "=HYPERLINK(\"x\")", "email": "bob@example.org", "country": "US"},
]  # fmt: skip


def _ts(day: int) -> datetime:
    return datetime(2026, 3, day, 10, 30, tzinfo=UTC)


def seed(stores: Stores) -> dict[str, int]:
    with transaction(stores.sessions) as session:
        uids = logic.upsert_customers(session, CLI_OPERATOR, CUSTOMERS, "test")
    orders = [
        ("O1", "purchase", uids["C001"], _ts(1), 2, Decimal("120.50")),
        ("O2", "purchase", uids["C001"], _ts(5), 1, Decimal("79.50")),
        ("C1", "cancellation", uids["C001"], _ts(6), 1, Decimal("-79.50")),
        ("O3", "purchase", uids["C002"], _ts(2), 1, Decimal("15.00")),
    ]
    stores.warehouse.insert(
        "orders",
        pa.table(
            {
                "order_id": [o[0] for o in orders],
                "source": ["test"] * len(orders),
                "kind": [o[1] for o in orders],
                "uid": [o[2] for o in orders],
                "origin_uid": [o[2] for o in orders],
                "ordered_at": pa.array([o[3] for o in orders], pa.timestamp("us", tz="UTC")),
                "channel": ["web"] * len(orders),
                "country": ["CN"] * len(orders),
                "line_count": [o[4] for o in orders],
                "amount": pa.array([o[5] for o in orders], pa.decimal128(18, 4)),
            }
        ),
    )
    stores.warehouse.insert(
        "events",
        pa.table(
            {
                "event_id": ["e1"],
                "uid": [uids["C001"]],
                "origin_uid": [uids["C001"]],
                "anonymous_id": ["anon-1"],
                "event": ["product_view"],
                "occurred_at": pa.array([_ts(3)], pa.timestamp("us", tz="UTC")),
                "channel": ["app"],
                "sku": ["SKU1"],
                "properties": ['{"price": 9.9}'],
            }
        ),
    )
    logic.add_interaction(
        stores.sessions,
        CLI_OPERATOR,
        "C001",
        InteractionCreate(kind="call", body="asked about sizes", occurred_at=_ts(4)),
    )
    return uids
