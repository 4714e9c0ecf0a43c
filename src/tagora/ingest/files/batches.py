"""Validate streamed rows in chunks: normalized rows (deduplicated by key), row errors, the error CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np
from pydantic import BaseModel, ValidationError

from tagora.core import exports
from tagora.core.errors import AppError
from tagora.ingest.files import normalize
from tagora.ingest.files.errors import FileImportErrorCode
from tagora.ingest.files.formats import RawRow, Rows
from tagora.ingest.files.kinds import RowKey
from tagora.ingest.files.numbering import LineNumbers
from tagora.ingest.files.rows import RowContext
from tagora.ingest.files.schemas import RowError

Project = Callable[[dict[str, Any]], dict[str, Any]]


Valid = list[tuple[int, dict[str, Any]]]  # (row number, normalized row)
Screen = Callable[[Valid], list[RowError]]


@dataclass
class Batch:
    rows_read: int = 0
    good: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> the row that wins for that key
    accepted: int = 0
    duplicate_keys: list[str] = field(default_factory=list)  # keys seen earlier in this chunk
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: int = 0


@dataclass
class Validator:
    """Validates a chunk's rows with ``model``; dedupes them by ``key``.

    ``keep_first``: facts keep the first row with a key (records: the last). ``numbered``: rows get a
    ``line_no`` within their value of this field, in file order. ``screen``: a check against the store
    (e.g. unknown customers) that returns errors for the rows it rejects.
    """

    model: type[BaseModel]
    key: RowKey
    project: Project
    context: RowContext
    keep_first: bool = False
    numbered: str | None = None
    screen: Screen | None = None

    def row(
        self, raw: RawRow, values: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any] | None, list[RowError]]:
        if raw.problem is not None:
            p = raw.problem
            return None, [RowError(row=raw.row, field=p.field, reason=p.reason, message=p.message)]
        values = self.project(raw.values) if values is None else values
        try:
            return self.model.model_validate(values, context=self.context).model_dump(), []
        except ValidationError as exc:
            return None, [_row_error(raw.row, e) for e in exc.errors(include_url=False)]

    def batches(self, rows: Rows, size: int) -> Iterator[Batch]:
        numbers = LineNumbers() if self.numbered else None
        while True:
            chunk = list(islice(rows, size))
            if not chunk:
                return
            projected = [None if raw.problem else self.project(raw.values) for raw in chunk]
            if numbers is not None:
                self._number(numbers, projected)
            batch = Batch(rows_read=len(chunk))
            valid: Valid = []
            for raw, values in zip(chunk, projected, strict=True):
                row, errors = self.row(raw, values)
                if row is None:
                    batch.errors += errors
                    batch.rejected_rows += 1
                else:
                    valid.append((raw.row, row))
            del chunk, projected  # only the normalized rows stay in memory while the chunk is written
            if self.screen is not None and valid:
                valid = self._screened(batch, valid)
            self._dedupe(batch, valid)
            yield batch

    def _number(self, numbers: LineNumbers, projected: list[dict[str, Any] | None]) -> None:
        assert self.numbered is not None
        ids = [normalize.text(v.get(self.numbered)) if v is not None else None for v in projected]
        for values, n in zip(projected, numbers.assign(ids), strict=True):
            if values is not None:
                values["line_no"] = n

    def _screened(self, batch: Batch, valid: Valid) -> Valid:
        assert self.screen is not None
        errors = self.screen(valid)
        if not errors:
            return valid
        rejected = {e.row for e in errors}
        batch.errors = sorted(batch.errors + errors, key=lambda e: e.row)
        batch.rejected_rows += len(rejected)
        return [(n, row) for n, row in valid if n not in rejected]

    def _dedupe(self, batch: Batch, valid: Valid) -> None:
        for _, row in valid:
            batch.accepted += 1
            key = self.key(row)
            if key in batch.good:
                batch.duplicate_keys.append(key)
                if self.keep_first:
                    continue
                del batch.good[key]  # re-insert so the dict keeps file order of the winning rows
            batch.good[key] = row


def _row_error(row: int, error: Any) -> RowError:
    # a check across fields names its field in the error's context
    loc = error.get("loc") or ((error.get("ctx") or {}).get("field") or "_row",)
    missing = error["type"] == "missing"
    value = None if missing else error.get("input")
    message = "a value is required" if missing else error["msg"]
    return RowError(
        row=row,
        field=str(loc[0]),
        reason="missing_value" if missing else error["type"],
        message=message,
        value=None if value is None else str(value),
    )


class SeenKeys:
    """Keys of earlier chunks, kept as sorted 64-bit hashes (8 bytes a key) so memory stays small."""

    def __init__(self) -> None:
        self._seen = np.empty(0, dtype=np.int64)

    def repeated(self, keys: list[str]) -> list[str]:
        """The keys that an earlier chunk already had; then remembers these keys."""
        hashes = np.fromiter((hash(k) for k in keys), dtype=np.int64, count=len(keys))
        again = np.isin(hashes, self._seen, assume_unique=False)
        self._seen = np.union1d(self._seen, hashes)
        return [k for k, hit in zip(keys, again.tolist(), strict=True) if hit]


class ErrorCsv:
    """Streams rejected rows to a CSV (row, field, reason, message, value) through the one export writer, so
    no cell runs as a formula (``docs/exports.md``)."""

    COLUMNS = ("row", "field", "reason", "message", "value")

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._writer: exports.RowWriter | None = None
        if path is not None:
            try:
                self._file = path.open("wb")
            except OSError as exc:
                raise AppError(
                    FileImportErrorCode.BAD_OPTION,
                    f"cannot write the error report {path}: {exc.strerror or exc}",
                    400,
                    {"field": "errors", "file": str(path)},
                ) from exc
            self._writer = exports.make_writer(self._file, exports.FileFormat.CSV, self.COLUMNS)

    def write(self, errors: list[RowError]) -> None:
        if self._writer is not None:
            for e in errors:
                self._writer.write([e.row, e.field, e.reason, e.message, e.value or ""])

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._file is not None:
            self._file.close()
