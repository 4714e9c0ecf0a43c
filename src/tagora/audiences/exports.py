"""Member lists as CSV (UTF-8 with BOM, so Excel opens Chinese text) or Excel."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook


def to_csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("members")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
