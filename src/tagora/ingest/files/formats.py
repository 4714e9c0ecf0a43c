"""Stream the rows of a CSV, Excel, JSON Lines or Parquet file without loading the file whole.

``open_rows`` yields the header and an iterator of ``RawRow``: the 1-based row number as the user
sees it (the line in a CSV or JSON Lines file, the sheet row in Excel, the record in Parquet) and the
row as ``{column: cell}``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from tagora.core.errors import AppError
from tagora.ingest.files.errors import FileImportErrorCode
from tagora.ingest.reading import unreadable


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class RawRow:
    row: int
    values: dict[str, Any]
    problem: Problem | None = None


Rows = Iterator[RawRow]
# ValueError covers pyarrow's ArrowInvalid and openpyxl's cell errors.
_READ_ERRORS = (OSError, EOFError, UnicodeDecodeError, ValueError, KeyError, csv.Error, zipfile.BadZipFile)
FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "excel", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".parquet": "parquet", ".vcf": "vcard"}  # fmt: skip


def detect(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    kind = FORMATS.get(suffixes[-1] if suffixes else "")
    if kind is None:
        raise AppError(
            FileImportErrorCode.UNSUPPORTED_FORMAT,
            f"{path.name}: unsupported file type (use {', '.join(sorted(FORMATS))})",
            400,
            {"file": str(path)},
        )
    return kind


def _binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Excel in a Chinese locale writes."""
    with _binary(path) as raw:
        head = raw.read(1 << 16)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


@contextmanager
def open_rows(path: Path, kind: str, batch_size: int = 50_000) -> Iterator[tuple[list[str], Rows]]:
    if not path.is_file():
        raise unreadable(path, "no such file")
    opener = {"csv": _csv, "excel": _excel, "jsonl": _jsonl, "parquet": _parquet}[kind]
    with ExitStack() as stack:
        try:
            header, rows = stack.enter_context(opener(path, batch_size))
        except _READ_ERRORS as exc:
            raise unreadable(path, exc) from exc
        yield header, _guard(path, rows)


def _guard(path: Path, rows: Rows) -> Rows:
    """Errors met half-way through a file become a clear ``AppError`` naming the last good row."""
    last = 0
    try:
        for raw in rows:
            last = raw.row
            yield raw
    except _READ_ERRORS as exc:
        raise unreadable(path, f"after row {last}: {exc}") from exc


def _clean_header(cells: list[Any]) -> list[str]:
    header = ["" if c is None else str(c).strip() for c in cells]
    if not any(header):
        raise ValueError("the file is empty (no header row)")
    return header


@contextmanager
def _csv(path: Path, batch_size: int) -> Iterator[tuple[list[str], Rows]]:
    encoding = _encoding(path)
    with _binary(path) as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as stream:
        reader = csv.reader(stream)
        header = _clean_header(next(reader, []))

        def rows() -> Rows:
            start = reader.line_num + 1
            for cells in reader:
                if any(cells):
                    yield RawRow(start, dict(zip(header, cells, strict=False)))
                start = reader.line_num + 1

        yield header, rows()


@contextmanager
def _excel(path: Path, batch_size: int) -> Iterator[tuple[list[str], Rows]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not a workbook
        raise ValueError(f"not an .xlsx workbook ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        header = _clean_header(list(next(cells, ())))

        def rows() -> Rows:
            for number, values in enumerate(cells, start=2):
                if any(v is not None and v != "" for v in values):
                    yield RawRow(number, dict(zip(header, values, strict=False)))

        yield header, rows()
    finally:
        book.close()


@contextmanager
def _jsonl(path: Path, batch_size: int) -> Iterator[tuple[list[str], Rows]]:
    """The first object's keys are the columns; a line that is not a JSON object is a rejected row."""
    with _binary(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig") as stream:
        lines = enumerate(stream, start=1)
        first: RawRow | None = None
        for number, line in lines:
            if line.strip():
                first = _json_row(number, line)
                break
        header = list(first.values) if first is not None else []

        def rows() -> Rows:
            if first is not None:
                yield first
            for number, line in lines:
                if line.strip():
                    yield _json_row(number, line)

        yield header, rows()


def _json_row(number: int, line: str) -> RawRow:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return RawRow(number, {}, Problem("_row", "invalid_json", f"not valid JSON: {exc.msg}"))
    if not isinstance(value, dict):
        return RawRow(number, {}, Problem("_row", "invalid_json", "not a JSON object"))
    return RawRow(number, {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in value.items()})


@contextmanager
def _parquet(path: Path, batch_size: int) -> Iterator[tuple[list[str], Rows]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends
        raise ValueError(f"not a Parquet file ({exc})") from exc
    try:
        header = list(parquet.schema_arrow.names)

        def rows() -> Rows:
            number = 0
            for batch in parquet.iter_batches(batch_size=batch_size):
                for values in batch.to_pylist():
                    number += 1
                    yield RawRow(number, values)

        yield header, rows()
    finally:
        parquet.close()
