"""Error codes of the ingest area."""

from __future__ import annotations

from enum import StrEnum


class IngestErrorCode(StrEnum):
    UNREADABLE_FILE = "unreadable_file"
    MISSING_COLUMN = "missing_column"
    MISSING_FILE = "missing_file"
