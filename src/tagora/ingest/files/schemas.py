"""The report of a file import, in the style of ``tagora.ingest.schemas.ImportReport``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

SAMPLE = 20  # rows, errors and duplicate keys kept in the report for display


class RowError(BaseModel):
    row: int  # 1-based, as the user sees it: line (CSV, JSON Lines), sheet row (Excel), record (Parquet)
    field: str
    reason: str
    message: str
    value: str | None = None


class FileImportReport(BaseModel):
    source: str
    kind: str  # customers | products | orders | events | interactions
    format: str  # csv | excel | jsonl | parquet | vcard
    source_system: str = ""
    default_region: str = "CN"
    path: str
    mode: str  # chunked | all-or-nothing | preview
    rows_read: int = 0
    rows_valid: int = 0  # rows that passed validation
    rows_loaded: int = 0  # valid rows that were written (0 for a preview or a refused all-or-nothing)
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    duplicates_in_file: int = 0  # rows superseded by a later row with the same key (the last one wins)
    duplicate_keys: list[str] = Field(default_factory=list)
    created: int = 0  # customers that were new to the store (customers only)
    updated: int = 0  # customers already in the store, completed by the file (customers only)
    records_written: int = 0  # records upserted, or new facts (order lines, events, interactions) stored
    skipped_existing: int = 0  # facts the store already held (a re-import, or a key stored before)
    orders_created: int = 0  # orders (one per order id and kind) new to the warehouse
    orders_updated: int = 0  # stored orders that gained lines from this file
    customers_created: int = 0  # bare customers made for unknown keys (--create-customers)
    merged: int = 0  # customer records identity resolution joined to another person (shared phone/email)
    identity_conflicts: int = (
        0  # shared identities the rules kept from merging (see `tagora identity conflicts`)
    )
    chunks_committed: int = 0
    written: bool = False
    errors_file: str | None = None
    errors: list[RowError] = Field(default_factory=list)
    preview: list[dict[str, Any]] = Field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class FileImportOptions:
    mapping: Path | None = None
    preview: bool = False
    all_or_nothing: bool = False
    errors_path: Path | None = None
    default_region: str = "CN"
    chunk_size: int = 50_000
    # The system the file comes from (e.g. "crm", "shop"); its keys are that system's user ids, and two
    # keys of one system are never merged into one person. Default: "file:<format>".
    source_system: str | None = None
    # Facts naming an unknown customer_key create a bare customer instead of being rejected.
    create_customers: bool = False
