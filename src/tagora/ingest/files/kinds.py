"""Every kind of file import: its row model, the fields a mapping must give, and what makes rows the same.

Customers and products are records: a later row with the same key completes the earlier one (the
last wins). Order lines, events and interactions are facts: once stored they never change, so the
first row with a key wins and a later repeat only counts as a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from tagora.ingest.files.fact_rows import EventRow, InteractionRow, OrderLineRow
from tagora.ingest.files.rows import CustomerRow, ProductRow

RowKey = Callable[[dict[str, Any]], str]

MODELS: dict[str, type[BaseModel]] = {
    "customers": CustomerRow,
    "products": ProductRow,
    "orders": OrderLineRow,
    "events": EventRow,
    "interactions": InteractionRow,
}
FIELDS = {kind: tuple(model.model_fields) for kind, model in MODELS.items()}
# Fields a mapping must give a column for (events also need customer_key or anonymous_id).
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_key",),
    "products": ("sku",),
    "orders": ("order_id", "customer_key", "ordered_at", "sku", "quantity", "unit_price"),
    "events": ("event", "occurred_at"),
    "interactions": ("customer_key", "kind", "occurred_at"),
}
FACTS = frozenset({"orders", "events", "interactions"})


def _field(name: str) -> RowKey:
    return lambda row: str(row[name])


def _order_line(row: dict[str, Any]) -> str:
    return f"{row['order_id']}\x1f{row['line_no']}"


def _interaction(row: dict[str, Any]) -> str:
    # add_interactions' own signature: the same record, kind, time and body is the same interaction
    return "\x1f".join((row["customer_key"], row["kind"], row["occurred_at"].isoformat(), row["body"]))


ROW_KEYS: dict[str, RowKey] = {
    "customers": _field("customer_key"),
    "products": _field("sku"),
    "orders": _order_line,
    "events": _field("event_id"),
    "interactions": _interaction,
}
