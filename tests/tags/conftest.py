"""Tag tests' shared data: three hand-made customers with orders, lines and events (the ``shop``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.tags.library import install_library

AS_OF = date(2026, 3, 31)
NOON = datetime(2026, 3, 31, 12, tzinfo=UTC)  # a Tuesday


def _insert(stores: Stores, table: str, schema: Any, rows: list[dict[str, Any]]) -> None:
    # Every declared column, null where a row leaves it out; each fact is its own record's (origin_uid).
    rows = [{"origin_uid": r.get("uid")} | r for r in rows]
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
