"""Error codes of the ingest area."""

from __future__ import annotations

from tagora.core.errors import ErrorCode


class IngestErrorCode(ErrorCode):
    UNREADABLE_FILE = "unreadable_file", 400
    MISSING_COLUMN = "missing_column", 400
    MISSING_FILE = "missing_file", 400
