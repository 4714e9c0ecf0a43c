"""Write verbs of the ingest area: each import is read and cleaned completely before anything is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from time import perf_counter
from typing import Any

import ibis
import pyarrow as pa
from sqlalchemy.orm import Session

from tagora.core import audit
from tagora.core.auth import Principal
from tagora.core.db import transaction
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.ingest import loading, reading
from tagora.ingest.errors import IngestErrorCode
from tagora.ingest.loading import Progress
from tagora.ingest.schemas import ImportReport
from tagora.ingest.sources.online_retail import parser
from tagora.ingest.sources.synthetic import load as dataset
from tagora.profiles.facade import (
    CANCELLATION,
    EVENTS,
    ORDER_LINES,
    ORDERS,
    PURCHASE,
    add_interactions,
    customer_keys_to_uids,
    upsert_customers,
    upsert_products,
)


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
        raw = reading.load_strings(con, path, parser.COLUMNS, "raw_lines")
        report.rows_read = int(raw.count().to_pyarrow().as_py())
        steps("cleaning")
        parsed = con.create_table("parsed", parser.parse(raw), temp=True)
        cleaned = con.create_table("cleaned", parser.judge(parsed), temp=True)
        report.rejected_by_reason = loading.count_reasons(cleaned)
        report.rows_rejected = sum(report.rejected_by_reason.values())
        report.rows_loaded = report.rows_read - report.rows_rejected
        customer_rows = parser.customers(cleaned).to_pyarrow().to_pylist()
        product_rows = parser.products(cleaned).to_pyarrow().to_pylist()
        steps("customers and products")
        uids = _upsert_reference_data(stores, actor, customer_rows, product_rows)
        report.customers, report.products = len(uids), len(product_rows)
        people = loading.people(stores, actor, uids)

        steps("order lines")
        line_rows = parser.lines(cleaned, loading.key_table(people))
        lines_arrow = line_rows.to_pyarrow()
        lines_arrow = loading.replace_column(
            lines_arrow, "ordered_at", loading.local_to_utc(lines_arrow["ordered_at"], parser.ZONE)
        )
        lines_table = ibis.memtable(lines_arrow)
        new_lines, report.lines_skipped_existing = loading.insert_new(
            stores.warehouse, "order_lines", lines_table, ["order_id", "line_no"], parser.SOURCE, ORDER_LINES
        )
        report.order_lines = new_lines.num_rows
        steps("orders")
        inserted = _insert_orders(stores, parser.orders(lines_table), parser.SOURCE)
        report.orders, report.cancellations, report.orders_skipped_existing = inserted
    finally:
        con.disconnect()
    report.seconds = round(perf_counter() - started, 3)
    with transaction(stores.sessions) as session:
        audit.record(
            session, actor.username, "import.online_retail", "import", str(path), **_audit_detail(report)
        )
    steps.finish()
    return report


def _upsert_reference_data(
    stores: Stores, actor: Principal, customers: list[dict[str, Any]], products: list[dict[str, Any]]
) -> dict[str, int]:
    with transaction(stores.sessions) as session:
        uids = upsert_customers(session, actor, customers, parser.SOURCE)
        upsert_products(session, actor, products, parser.SOURCE)
    return uids


def _insert_orders(stores: Stores, order_rows: ibis.Table, source: str) -> tuple[int, int, int]:
    """Returns (new purchases, new cancellations, orders skipped because they already exist)."""
    inserted, skipped = loading.insert_new(
        stores.warehouse, "orders", order_rows, ["order_id"], source, ORDERS
    )
    return (
        loading.count_equal(inserted, "kind", PURCHASE),
        loading.count_equal(inserted, "kind", CANCELLATION),
        skipped,
    )


def _audit_detail(report: ImportReport) -> dict[str, object]:
    return report.model_dump(include={"rows_read", "rows_loaded", "rows_rejected", "orders", "cancellations"})


def import_dataset(
    stores: Stores, actor: Principal, folder: str | Path, progress: Progress | None = None
) -> ImportReport:
    """Import a ``tagora generate`` folder (customers, products, order_lines, events, interactions CSVs)."""
    started = perf_counter()
    folder = Path(folder)
    steps = loading.Steps(progress, total=4)
    report = ImportReport(source=dataset.SOURCE, path=str(folder))
    present = {name: folder / f"{name}.csv" for name in dataset.FILES if (folder / f"{name}.csv").is_file()}
    if not present:
        raise AppError(
            IngestErrorCode.MISSING_FILE,
            f"{folder}: no data set files found (expected {', '.join(f'{n}.csv' for n in dataset.FILES)})",
            400,
            {"folder": str(folder)},
        )
    con = reading.connect_scratch()
    try:
        steps("reading")
        raw = {
            name: reading.load_strings(con, path, dataset.FILES[name], f"raw_{name}")
            for name, path in present.items()
        }
        report.rows_read = sum(int(t.count().to_pyarrow().as_py()) for t in raw.values())
        parsed: dict[str, ibis.Table] = {}
        if "customers" in raw:
            parsed["customers"] = con.create_table(
                "customers", dataset.customers(raw["customers"]), temp=True
            )
        if "products" in raw:
            parsed["products"] = con.create_table("products", dataset.products(raw["products"]), temp=True)

        steps("customers and products")
        with transaction(stores.sessions) as session:
            records: dict[str, int] = {}
            if "customers" in parsed:
                rows = _latest_per_key(parsed["customers"], "customer_key")
                records = upsert_customers(session, actor, rows, dataset.SOURCE)
                report.customers = len(rows)
            if "products" in parsed:
                rows = _latest_per_key(parsed["products"], "sku")
                report.products = upsert_products(session, actor, rows, dataset.SOURCE)
            records |= customer_keys_to_uids(session, _referenced_keys(raw))
            if "events" in raw:
                _link_devices(session, raw["events"], records)
        uids = loading.key_table(loading.people(stores, actor, records))

        steps("orders and events")
        if "order_lines" in raw:
            parsed["order_lines"] = con.create_table(
                "order_lines", dataset.order_lines(raw["order_lines"], uids), temp=True
            )
            _load_orders(stores, parsed["order_lines"], report)
        if "events" in raw:
            parsed["events"] = con.create_table("events", dataset.events(raw["events"], uids), temp=True)
            ok = parsed["events"].filter(parsed["events"].reason.isnull())
            report.events, report.events_skipped_existing = 0, 0
            for new_events, skipped in _insert_in_chunks(stores, ok, "events", ["event_id"], None, EVENTS):
                report.events += new_events.num_rows
                report.events_skipped_existing += skipped
                loading.stitch_anonymous(stores, new_events)
        if "interactions" in raw:
            parsed["interactions"] = dataset.interactions(raw["interactions"], uids)
            report.interactions = _load_interactions(stores, actor, parsed["interactions"])
        for name, table in parsed.items():
            for reason, n in loading.count_reasons(table).items():
                report.rejected_by_reason[f"{name}:{reason}"] = n
    finally:
        con.disconnect()
    report.rows_rejected = sum(report.rejected_by_reason.values())
    report.rows_loaded = report.rows_read - report.rows_rejected
    report.seconds = round(perf_counter() - started, 3)
    with transaction(stores.sessions) as session:
        audit.record(
            session, actor.username, "import.dataset", "import", str(folder), **_audit_detail(report)
        )
    steps.finish()
    return report


def _latest_per_key(table: ibis.Table, key: str) -> list[dict[str, Any]]:
    """Loaded rows, one per key (the last one in the file wins), without the bookkeeping columns, in the
    order of the file: new customers are numbered in that order, the same on every run and every store
    (a window's output order is whatever DuckDB's threads make it)."""
    ok = table.filter(table.reason.isnull())
    ranked = ok.mutate(rank=ibis.row_number().over(group_by=key, order_by=ibis.desc("row_idx")))
    latest = ranked.filter(ranked["rank"] == 0).order_by("row_idx")
    return latest.drop("rank", "reason", "row_idx").to_pyarrow().to_pylist()


def _link_devices(session: Session, events: ibis.Table, records: dict[str, int]) -> None:
    key, anonymous = dataset.text(events.customer_key), dataset.text(events.anonymous_id)
    pairs = (
        events.select(k=key, a=anonymous)
        .filter(lambda t: t.k.notnull() & t.a.notnull())
        .distinct()
        .to_pyarrow()
    )
    found = zip(pairs["k"].to_pylist(), pairs["a"].to_pylist(), strict=True)
    loading.link_devices(session, found, records, dataset.SOURCE)


def _referenced_keys(raw: dict[str, ibis.Table]) -> list[str]:
    keys: set[str] = set()
    for name in ("order_lines", "events", "interactions"):
        if name in raw:
            col = dataset.text(raw[name].customer_key)
            keys.update(k for k in raw[name].select(k=col).distinct().to_pyarrow()["k"].to_pylist() if k)
    return sorted(keys)


CHUNK_ROWS = 2_000_000  # rows of a file moved to the warehouse at a time (as Arrow, ~0.5 GB of events)


def _insert_in_chunks(
    stores: Stores, ok: ibis.Table, name: str, keys: list[str], source: str | None, schema: ibis.Schema
) -> Iterator[tuple[pa.Table, int]]:
    """``loading.insert_new`` over ``CHUNK_ROWS`` file lines at a time (by ``row_idx``), so memory stays
    bounded whatever the file's size; yields each chunk's (inserted rows, skipped)."""
    last = ok.row_idx.max().to_pyarrow().as_py()
    for start in range(0, -1 if last is None else int(last) + 1, CHUNK_ROWS):
        chunk = ok.filter((ok.row_idx >= start) & (ok.row_idx < start + CHUNK_ROWS))
        yield loading.insert_new(stores.warehouse, name, chunk, keys, source, schema)


def _load_orders(stores: Stores, parsed: ibis.Table, report: ImportReport) -> None:
    ok = parsed.filter(parsed.reason.isnull())
    report.order_lines, report.lines_skipped_existing = 0, 0
    keys = ["order_id", "line_no"]
    for new_lines, skipped in _insert_in_chunks(stores, ok, "order_lines", keys, dataset.SOURCE, ORDER_LINES):
        report.order_lines += new_lines.num_rows
        report.lines_skipped_existing += skipped
    inserted = _insert_orders(stores, dataset.orders(ok), dataset.SOURCE)
    report.orders, report.cancellations, report.orders_skipped_existing = inserted


def _load_interactions(stores: Stores, actor: Principal, parsed: ibis.Table) -> int:
    rows = parsed.filter(parsed.reason.isnull()).drop("row_idx", "reason").to_pyarrow().to_pylist()
    if not rows:
        return 0
    with transaction(stores.sessions) as session:
        return add_interactions(session, actor, rows)
