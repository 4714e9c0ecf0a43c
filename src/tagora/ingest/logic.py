"""Write verbs of the ingest area: each import is read and cleaned completely before anything is written."""

from __future__ import annotations

from pathlib import Path
from time import perf_counter

import ibis

from tagora.core import audit
from tagora.core.auth import Principal
from tagora.core.db import transaction
from tagora.core.stores import Stores
from tagora.ingest import loading, reading
from tagora.ingest.loading import Progress
from tagora.ingest.schemas import ImportReport
from tagora.ingest.sources.online_retail import parser
from tagora.profiles.logic import upsert_customers, upsert_products
from tagora.profiles.models import CANCELLATION, ORDER_LINES, ORDERS, PURCHASE


def import_online_retail(
    stores: Stores, actor: Principal, path: str | Path, progress: Progress | None = None
) -> ImportReport:
    """Import UCI Online Retail lines; importing the same file again changes nothing."""
    started = perf_counter()
    path = Path(path)
    steps = loading.Steps(progress, total=5)
    report = ImportReport(source=parser.SOURCE, path=str(path))
    con = reading.connect_scratch()
    try:
        steps("reading")
        raw = reading.read_strings(con, path, parser.COLUMNS)
        steps("cleaning")
        cleaned_arrow = parser.clean(ibis.memtable(raw)).to_pyarrow()
        cleaned_arrow = loading.replace_column(
            cleaned_arrow, "ordered_at", loading.local_to_utc(cleaned_arrow["ordered_at"], parser.ZONE)
        )
        cleaned = con.create_table("cleaned", cleaned_arrow, temp=True)  # type: ignore[attr-defined]
        report.rows_read = raw.num_rows
        report.rejected_by_reason = loading.count_reasons(cleaned)
        report.rows_rejected = sum(report.rejected_by_reason.values())
        report.rows_loaded = report.rows_read - report.rows_rejected
        customer_rows = parser.customers(cleaned).to_pyarrow().to_pylist()
        product_rows = parser.products(cleaned).to_pyarrow().to_pylist()

        steps("customers and products")
        with transaction(stores.sessions) as session:
            uids = upsert_customers(session, actor, customer_rows, parser.SOURCE)
            report.products = upsert_products(session, actor, product_rows, parser.SOURCE)
        report.customers = len(uids)

        steps("order lines")
        line_rows = parser.lines(cleaned, loading.key_table(uids))
        lines_table = con.create_table("lines", line_rows.to_pyarrow(), temp=True)  # type: ignore[attr-defined]
        new_lines, report.lines_skipped_existing = loading.insert_new(
            stores.warehouse, "order_lines", lines_table, ["order_id", "line_no"], parser.SOURCE, ORDER_LINES
        )
        report.order_lines = new_lines.num_rows
        steps("orders")
        order_rows = parser.orders(lines_table)
        inserted = _insert_orders(stores, order_rows, parser.SOURCE)
        report.orders, report.cancellations, report.orders_skipped_existing = inserted
    finally:
        con.disconnect()
    report.seconds = round(perf_counter() - started, 3)
    with transaction(stores.sessions) as session:
        audit.record(session, actor.username, "import.online_retail", "import", str(path), **_audit_detail(report))
    steps.finish()
    return report


def _insert_orders(stores: Stores, order_rows: ibis.Table, source: str) -> tuple[int, int, int]:
    """Returns (new purchases, new cancellations, orders skipped because they already exist)."""
    inserted, skipped = loading.insert_new(stores.warehouse, "orders", order_rows, ["order_id"], source, ORDERS)
    return loading.count_equal(inserted, "kind", PURCHASE), loading.count_equal(inserted, "kind", CANCELLATION), skipped


def _audit_detail(report: ImportReport) -> dict[str, object]:
    return report.model_dump(include={"rows_read", "rows_loaded", "rows_rejected", "orders", "cancellations"})
