"""Two source systems whose customers overlap, written as real files and imported through the importers."""

from __future__ import annotations

import csv
from pathlib import Path

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.files.logic import import_customers_file
from tagora.ingest.files.schemas import FileImportOptions, FileImportReport
from tagora.ingest.logic import import_dataset

HEADER = ("customer_key", "name", "phone", "email")
# The CRM writes phones with spaces and emails in mixed case; C-3 and C-4 are two CRM accounts that share
# a phone (a couple), which must not make them one person.
CRM = [
    ("C-1", "王芳", "138 0013 8001", "Wang.Fang@Example.com"),
    ("C-2", "李雷", "13800138002", ""),
    ("C-3", "赵敏", "13800138003", "zhao@example.com"),
    ("C-4", "钱进", "13800138003", ""),
]
# The shop writes +86-... and lower case; S-1 is C-1 by phone, S-2 is nobody else.
SHOP = [
    ("S-1", "Wang Fang", "+86-138-0013-8001", ""),
    ("S-2", "Han Meimei", "", "han@example.com"),
]
# The app's account A-9 is C-1 by e-mail (upper case here).
APP = [("A-9", "", "", "WANG.FANG@example.com")]


def write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def import_source(
    stores: Stores, tmp_path: Path, system: str, rows: list[tuple[str, ...]]
) -> FileImportReport:
    path = write_csv(tmp_path / f"{system}-{len(rows)}.csv", HEADER, rows)
    return import_customers_file(stores, CLI_OPERATOR, path, FileImportOptions(source_system=system))


def import_facts(stores: Stores, tmp_path: Path) -> None:
    """Orders for C-1 and S-1, events (one anonymous, later identified as S-1) and a CRM note on S-1."""
    folder = tmp_path / "facts"
    folder.mkdir(exist_ok=True)
    line = ("2026-03-0{d}T10:00:00+08:00", "app", "SKU-1", "1", "{p}", "purchase")
    write_csv(
        folder / "order_lines.csv",
        ("order_id", "customer_key", "ordered_at", "channel", "sku", "quantity", "unit_price", "kind"),
        [
            ("O-C1", "C-1", *[v.format(d=1, p="100.00") for v in line]),
            ("O-S1", "S-1", *[v.format(d=2, p="250.00") for v in line]),
        ],
    )
    write_csv(
        folder / "events.csv",
        ("event_id", "customer_key", "anonymous_id", "event", "occurred_at", "channel", "sku", "properties"),
        [
            ("E-anon", "", "dev-1", "page_view", "2026-03-03T09:00:00+08:00", "web", "", "{}"),
            ("E-S1", "S-1", "dev-1", "login", "2026-03-03T09:05:00+08:00", "web", "", "{}"),
            ("E-C1", "C-1", "", "page_view", "2026-03-04T09:00:00+08:00", "app", "", "{}"),
        ],
    )
    write_csv(
        folder / "interactions.csv",
        ("customer_key", "kind", "body", "author", "occurred_at"),
        [("S-1", "note", "asked about delivery", "sales1", "2026-03-05T10:00:00+08:00")],
    )
    import_dataset(stores, CLI_OPERATOR, folder)
