"""Error codes of file imports (unreadable files and missing columns use ``IngestErrorCode``)."""

from __future__ import annotations

from enum import StrEnum


class FileImportErrorCode(StrEnum):
    BAD_MAPPING = "bad_mapping"
    BAD_OPTION = "bad_option"
    UNSUPPORTED_FORMAT = "unsupported_format"
    WRITE_FAILED = "write_failed"
    REJECTED_ROWS = "rejected_rows"
