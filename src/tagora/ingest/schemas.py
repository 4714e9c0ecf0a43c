"""The report every importer returns."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ImportReport(BaseModel):
    source: str
    path: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    orders: int = 0
    cancellations: int = 0
    order_lines: int = 0
    customers: int = 0
    products: int = 0
    events: int = 0
    interactions: int = 0
    orders_skipped_existing: int = 0
    lines_skipped_existing: int = 0
    events_skipped_existing: int = 0
    seconds: float = 0.0
