"""Error codes of file imports (unreadable files and missing columns use ``IngestErrorCode``)."""

from __future__ import annotations

from tagora.core.errors import ErrorCode


class FileImportErrorCode(ErrorCode):
    BAD_MAPPING = "bad_mapping", 400
    BAD_OPTION = "bad_option", 400
    UNSUPPORTED_FORMAT = "unsupported_format", 400
    WRITE_FAILED = "write_failed", 500
    REJECTED_ROWS = "rejected_rows", 400
