"""Validate streamed rows in chunks: normalized rows (deduplicated by key), row errors, the error CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np
from pydantic import BaseModel, ValidationError

from tagora.core.errors import AppError
from tagora.ingest.files.errors import FileImportErrorCode
from tagora.ingest.files.formats import RawRow, Rows
from tagora.ingest.files.rows import RowContext
from tagora.ingest.files.schemas import RowError
from tagora.privacy.facade import neutralize_cell

Project = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Batch:
    rows_read: int = 0
    good: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> last row with that key
    accepted: int = 0
    duplicate_keys: list[str] = field(default_factory=list)  # keys seen earlier in this chunk
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: int = 0


class Validator:
    def __init__(self, model: type[BaseModel], key: str, project: Project, context: RowContext) -> None:
        self.model, self.key, self.project, self.context = model, key, project, context

    def row(self, raw: RawRow) -> tuple[dict[str, Any] | None, list[RowError]]:
        if raw.problem is not None:
            p = raw.problem
            return None, [RowError(row=raw.row, field=p.field, reason=p.reason, message=p.message)]
        values = self.project(raw.values)
        try:
            return self.model.model_validate(values, context=self.context).model_dump(), []
        except ValidationError as exc:
            return None, [_row_error(raw.row, e) for e in exc.errors(include_url=False)]

    def batches(self, rows: Rows, size: int) -> Iterator[Batch]:
        while True:
            chunk = list(islice(rows, size))
            if not chunk:
                return
            batch = Batch(rows_read=len(chunk))
            for raw in chunk:
                row, errors = self.row(raw)
                if row is None:
                    batch.errors += errors
                    batch.rejected_rows += 1
                    continue
                batch.accepted += 1
                key = row[self.key]
                if key in batch.good:
                    batch.duplicate_keys.append(key)
                    del batch.good[key]  # re-insert so the dict keeps file order of the winning rows
                batch.good[key] = row
            del chunk  # only the normalized rows stay in memory while the chunk is written
            yield batch


def _row_error(row: int, error: Any) -> RowError:
    loc = error.get("loc") or ("_row",)
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
    """Streams rejected rows to a CSV (row, field, reason, message, value); cells cannot run as formulas."""

    COLUMNS = ("row", "field", "reason", "message", "value")

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._writer: Any = None
        if path is not None:
            try:
                self._file = path.open("w", encoding="utf-8-sig", newline="")
            except OSError as exc:
                raise AppError(
                    FileImportErrorCode.BAD_OPTION,
                    f"cannot write the error report {path}: {exc.strerror or exc}",
                    400,
                    {"field": "errors", "file": str(path)},
                ) from exc
            self._writer = csv.writer(self._file)
            self._writer.writerow(self.COLUMNS)

    def write(self, errors: list[RowError]) -> None:
        if self._writer is not None:
            for e in errors:
                self._writer.writerow(
                    [e.row, e.field, e.reason, neutralize_cell(e.message), neutralize_cell(e.value or "")]
                )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
