"""The Online Retail importer on the real file, checked against an independent csv+Decimal computation."""

from __future__ import annotations

import csv
import gzip
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import pytest

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.ingest.logic import import_online_retail
from tagora.ingest.schemas import ImportReport
from tagora.profiles import facade
from tests.conftest import ONLINE_RETAIL, make_settings, need

NON_PRODUCT = {"POST", "DOT", "M", "D", "S", "B", "C2", "CRUK", "PADS", "AMAZONFEE", "BANK CHARGES", "m"}


def expected_from_file(path: Path) -> tuple[set[str], dict[str, dict[str, Decimal]], set[str]]:
    """Customers, purchase-order amounts per customer and cancelled invoices, computed with csv + Decimal."""
    customers: set[str] = set()
    orders: dict[str, dict[str, Decimal]] = defaultdict(dict)
    cancelled: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            raw_id = row["CustomerID"].strip()
            if not raw_id:
                continue
            key = str(int(Decimal(raw_id)))
            customers.add(key)
            code, desc = row["StockCode"].strip(), row["Description"].strip()
            qty, price = int(row["Quantity"]), Decimal(row["UnitPrice"])
            is_product = code[:5].isdigit() or code.startswith("DCGS")
            if code in NON_PRODUCT or not is_product or not desc or price <= 0:
                continue
            invoice = row["InvoiceNo"].strip()
            if invoice.startswith("C"):
                cancelled.add(invoice)
            elif qty > 0 and invoice.isdigit():
                orders[key][invoice] = orders[key].get(invoice, Decimal(0)) + qty * price
    return customers, orders, cancelled


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stores, ImportReport]]:
    need(ONLINE_RETAIL.exists(), f"{ONLINE_RETAIL} is missing")
    stores = open_stores(make_settings(tmp_path_factory.mktemp("or") / "home"))
    report = import_online_retail(stores, CLI_OPERATOR, ONLINE_RETAIL)
    yield stores, report
    stores.close()


@pytest.fixture(scope="module")
def expected() -> tuple[set[str], dict[str, dict[str, Decimal]], set[str]]:
    need(ONLINE_RETAIL.exists(), f"{ONLINE_RETAIL} is missing")
    return expected_from_file(ONLINE_RETAIL)


@pytest.mark.slow
def test_every_line_is_either_loaded_or_rejected_with_a_reason(imported: tuple[Stores, ImportReport]) -> None:
    _, report = imported
    assert report.rows_read == 370931
    assert report.rows_read == report.rows_loaded + report.rows_rejected
    assert sum(report.rejected_by_reason.values()) == report.rows_rejected
    assert report.rejected_by_reason["missing_customer_id"] > 90000
    assert report.rejected_by_reason["non_product_code"] > 0


@pytest.mark.slow
def test_every_distinct_customer_id_becomes_a_customer(
    imported: tuple[Stores, ImportReport], expected: tuple
) -> None:
    stores, report = imported
    customers, _, _ = expected
    with stores.sessions() as session:
        uids = facade.customer_keys_to_uids(session, sorted(customers))
    assert set(uids) == customers
    assert report.customers == len(customers) == 3658
    assert "17850" in uids


@pytest.mark.slow
def test_order_counts_and_spend_match_an_independent_computation(
    imported: tuple[Stores, ImportReport], expected: tuple
) -> None:
    stores, _ = imported
    customers, orders, _ = expected
    with stores.sessions() as session:
        uids = facade.customer_keys_to_uids(session, sorted(customers))
    sample = random.Random(20111201).sample(sorted(customers), 200)
    for key in sample:
        summary = facade.order_summary(stores.warehouse, uids[key])
        mine = orders.get(key, {})
        assert summary.order_count == len(mine), key
        assert summary.total_spend == sum(mine.values(), Decimal(0)).quantize(Decimal("0.01")), key
    purchases = stores.warehouse.table("orders").filter(lambda t: t.kind == "purchase")
    by_uid = (
        purchases.group_by("uid").aggregate(n=purchases.count(), spend=purchases.amount.sum()).to_pyarrow()
    )
    got = {
        u: (n, Decimal(str(s)))
        for u, n, s in zip(*(by_uid[c].to_pylist() for c in ("uid", "n", "spend")), strict=True)
    }
    want = {uids[k]: (len(o), sum(o.values(), Decimal(0))) for k, o in orders.items() if o}
    assert got == want


@pytest.mark.slow
def test_cancellations_are_kept_apart_with_utc_times(
    imported: tuple[Stores, ImportReport], expected: tuple
) -> None:
    stores, report = imported
    _, _, cancelled = expected
    orders = stores.warehouse.table("orders")
    cancellations = orders.filter(orders.kind == "cancellation").to_pyarrow()
    assert set(cancellations["order_id"].to_pylist()) == cancelled
    assert report.cancellations == len(cancelled)
    assert all(a < 0 for a in cancellations["amount"].to_pylist())
    first = orders.filter(orders.order_id == "536365").to_pyarrow().to_pylist()[0]
    assert first["ordered_at"].tzinfo is not None
    assert first["ordered_at"].astimezone(UTC).isoformat() == "2010-12-01T08:26:00+00:00"  # GMT in winter
    lines = stores.warehouse.table("order_lines")
    assert lines.filter(lines.order_id == "536365").line_no.max().to_pyarrow().as_py() == 7


@pytest.mark.slow
def test_importing_the_same_file_again_changes_nothing(imported: tuple[Stores, ImportReport]) -> None:
    stores, _ = imported
    with stores.sessions() as session:
        before = facade.store_counts(session, stores.warehouse)
    again = import_online_retail(stores, CLI_OPERATOR, ONLINE_RETAIL)
    with stores.sessions() as session:
        after = facade.store_counts(session, stores.warehouse)
    assert after == before
    assert again.orders == again.order_lines == 0
    assert again.lines_skipped_existing == before["order_lines"]
