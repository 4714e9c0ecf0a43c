"""The one writer of every file Tagora hands out (segment members, customers, recommendations, tag values,
the audit log): CSV, Excel or JSON Lines, with the same defences everywhere.

- CSV follows OWASP's CSV-injection advice: a text cell starting with ``= + - @``, a tab or a carriage
  return gets a leading ``'`` so no spreadsheet runs it as a formula. A cell that is a plain number
  (``+8613800000000``, ``-79.50``) is left alone: a spreadsheet reads it as a number, never as a
  formula, so phone numbers stay usable by the SMS platforms the file is for.
- Excel cells are typed: text is stored as text (never a formula, never an error code, and without a
  literal apostrophe), numbers as numbers, times as times.
- Phones are written in the format the export asks for: E.164 (``+8613800000000``) or the national
  digits (``13800000000``). A masked phone is written as it was masked.
- Bulk exports are capped per role (``TAGORA_EXPORT_MAX_ROWS``), checked before anything is written.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

import phonenumbers
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from tagora.core.errors import AppError, CoreErrorCode


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"


class PhoneFormat(StrEnum):
    E164 = "e164"
    NATIONAL = "national"


MEDIA_TYPES = {
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileFormat.JSONL: "application/x-ndjson",
}


def file_responses(*formats: FileFormat) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that answers a file in one of ``formats``."""
    content = {MEDIA_TYPES[f].split(";")[0]: {"schema": {"type": "string"}} for f in formats}
    return {200: {"description": "The file.", "content": content}}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_PHONE_CHARS = re.compile(r"[+0-9 ()-]+")  # a masked phone (138****1234) has stars and is kept as masked


def file_format(
    value: str, allowed: Collection[FileFormat] = tuple(FileFormat), field: str = "format"
) -> FileFormat:
    """The format named by ``value`` (case-insensitive), or a 422 naming the field and the choices."""
    choices = [f.value for f in allowed]
    if value.lower() not in choices:
        message = f"{field}: {value!r} is not one of {', '.join(choices)}"
        raise AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": field, "choices": choices})
    return FileFormat(value.lower())


def phone_format(value: str, field: str = "phone_format") -> PhoneFormat:
    choices = [f.value for f in PhoneFormat]
    if value.lower() not in choices:
        message = f"{field}: {value!r} is not one of {', '.join(choices)}"
        raise AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": field, "choices": choices})
    return PhoneFormat(value.lower())


def neutralize_csv(text: str) -> str:
    """OWASP: a cell that a spreadsheet would read as a formula starts with a quote; plain numbers don't."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def format_phone(value: str, fmt: PhoneFormat, region: str) -> str:
    """``value`` in E.164 or as national digits; what does not parse as a phone (a masked one) is kept."""
    if not _PHONE_CHARS.fullmatch(value):
        return value
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(number):
        return value
    if fmt is PhoneFormat.NATIONAL:
        return phonenumbers.national_significant_number(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class ExportOptions:
    phone_columns: Collection[str] = ()
    phone_format: PhoneFormat = PhoneFormat.E164
    region: str = "CN"
    sheet: str = "data"


def _native(value: object) -> object:
    """numpy scalars (from a pandas frame) as Python values; NaN as empty, which every format can hold."""
    if type(value).__module__ == "numpy" and callable(item := getattr(value, "item", None)):
        value = item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _text(value: object) -> str:
    # Lone surrogates (which no UTF-8 file can hold) and control characters become U+FFFD.
    text = str(value).encode("utf-8", "replace").decode("utf-8")
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)


class RowWriter(ABC):
    def __init__(self, fh: IO[bytes], header: Sequence[str], options: ExportOptions) -> None:
        self.fh = fh
        self.phones = {i for i, name in enumerate(header) if name in options.phone_columns}
        self.options = options

    @abstractmethod
    def write(self, values: Sequence[object]) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def values(self, values: Sequence[object]) -> Iterator[tuple[int, object]]:
        for i, value in enumerate(values):
            value = _native(value)
            if i in self.phones and isinstance(value, str) and value:
                value = format_phone(value, self.options.phone_format, self.options.region)
            yield i, value


class _CsvWriter(RowWriter):
    def __init__(self, fh: IO[bytes], header: Sequence[str], options: ExportOptions) -> None:
        super().__init__(fh, header, options)
        fh.write(codecs.BOM_UTF8)  # Excel opens UTF-8 (Chinese text) only with the mark
        self.text = io.TextIOWrapper(fh, encoding="utf-8", errors="replace", newline="", write_through=True)
        self.csv = csv.writer(self.text)
        self.csv.writerow([neutralize_csv(_text(h)) for h in header])

    def write(self, values: Sequence[object]) -> None:
        self.csv.writerow([self._cell(v) for _, v in self.values(values)])

    @staticmethod
    def _cell(value: object) -> object:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int | float | Decimal):
            return value
        if isinstance(value, datetime):
            return _utc(value).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return neutralize_csv(_text(value))

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class _XlsxWriter(RowWriter):
    def __init__(self, fh: IO[bytes], header: Sequence[str], options: ExportOptions) -> None:
        super().__init__(fh, header, options)
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(options.sheet)
        self.sheet.append([self._cell(h) for h in header])

    def write(self, values: Sequence[object]) -> None:
        self.sheet.append([self._cell(v) for _, v in self.values(values)])

    def _cell(self, value: object) -> WriteOnlyCell:
        if value is None or (isinstance(value, int | float | Decimal) and not isinstance(value, bool)):
            return WriteOnlyCell(self.sheet, value)
        if isinstance(value, datetime):
            return WriteOnlyCell(self.sheet, _utc(value))
        if isinstance(value, date):
            return WriteOnlyCell(self.sheet, value)
        cell = WriteOnlyCell(self.sheet, _text(str(value).lower() if isinstance(value, bool) else value))
        cell.data_type = "s"  # text, even when it starts with "=" or reads like "#N/A"
        return cell

    def close(self) -> None:
        self.book.save(self.fh)


class _JsonLinesWriter(RowWriter):
    def __init__(self, fh: IO[bytes], header: Sequence[str], options: ExportOptions) -> None:
        super().__init__(fh, header, options)
        self.header = list(header)

    def write(self, values: Sequence[object]) -> None:
        row = {self.header[i]: v for i, v in self.values(values)}
        line = json.dumps(row, ensure_ascii=False, default=_json_default) + "\n"
        self.fh.write(line.encode("utf-8", "replace"))

    def close(self) -> None:
        pass


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


_WRITERS: dict[FileFormat, type[RowWriter]] = {
    FileFormat.CSV: _CsvWriter,
    FileFormat.XLSX: _XlsxWriter,
    FileFormat.JSONL: _JsonLinesWriter,
}


def make_writer(
    fh: IO[bytes], fmt: FileFormat, header: Sequence[str], options: ExportOptions | None = None
) -> RowWriter:
    """A writer of rows to the binary file ``fh``; ``close()`` completes the file (an Excel one)."""
    return _WRITERS[fmt](fh, header, options or ExportOptions())


@contextmanager
def open_writer(
    fh: IO[bytes], fmt: FileFormat, header: Sequence[str], options: ExportOptions | None = None
) -> Iterator[RowWriter]:
    """Write rows to the binary file ``fh`` one at a time (an Excel file is completed on exit)."""
    writer = make_writer(fh, fmt, header, options)
    yield writer
    writer.close()


def to_bytes(
    fmt: FileFormat,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    options: ExportOptions | None = None,
) -> bytes:
    out = io.BytesIO()
    with open_writer(out, fmt, header, options) as writer:
        for row in rows:
            writer.write(row)
    return out.getvalue()


def check_row_cap(limits: dict[str, int], role: str, rows: int, what: str = "export") -> None:
    """Refuse (403) an export of more rows than the role may take (``TAGORA_EXPORT_MAX_ROWS``)."""
    limit = limits.get(role)
    if limit is not None and rows > limit:
        raise AppError(
            CoreErrorCode.FORBIDDEN,
            f"this {what} has {rows:,} rows; the {role} role may export at most {limit:,} "
            "(TAGORA_EXPORT_MAX_ROWS)",
            403,
            {"rows": rows, "limit": limit, "role": role},
        )
