"""Cleaning rules and failure modes on tiny in-test files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.ingest import sources as ingest_sources
from tagora.ingest.logic import import_dataset, import_online_retail
from tagora.profiles import facade

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
SOURCES = Path(ingest_sources.__file__).parent
FIXTURES = SOURCES / "synthetic" / "fixtures"
# One line per cleaning rule, in the Online Retail format; codes, customers and descriptions invented.
DIRTY_LINES = (
    "1001,90001A,TEST CANDLE,6,2011-06-01 10:00:00,2.55,90001.0,United Kingdom\n"
    "1001,POST,POSTAGE,1,2011-06-01 10:00:00,18.00,90001.0,United Kingdom\n"
    "1002,90001A,TEST CANDLE,6,2011-06-01 10:00:00,2.55,,United Kingdom\n"
    "1003,90001A,,6,2011-06-01 10:00:00,2.55,90002.0,France\n"
    "1004,90001A,TEST CANDLE,6,2011-06-01 10:00:00,0,90002.0,France\n"
    "1005,90001A,TEST CANDLE,-2,2011-06-01 10:00:00,2.55,90002.0,France\n"
    "1006,90001A,TEST CANDLE,six,2011-06-01 10:00:00,2.55,90002.0,France\n"
    "1007,90001A,TEST CANDLE,6,yesterday,2.55,90002.0,France\n"
    "A1008,B,Adjust bad debt,1,2011-06-01 10:00:00,-5,,United Kingdom\n"
    "C1009,90001A,TEST CANDLE,-1,2011-06-02 10:00:00,2.55,90002.0,France\n"
)


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "retail.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_each_dirty_line_is_rejected_with_its_reason(stores: Stores, tmp_path: Path) -> None:
    path = write(tmp_path, DIRTY_LINES)
    report = import_online_retail(stores, CLI_OPERATOR, path)
    assert report.rows_read == 10
    assert report.rejected_by_reason == {
        "bad_invoice_date": 1,
        "bad_invoice_no": 1,
        "bad_quantity": 1,
        "empty_description": 1,
        "missing_customer_id": 1,
        "non_positive_quantity": 1,
        "non_positive_unit_price": 1,
        "non_product_code": 1,
    }
    assert report.rows_loaded == 2
    assert (report.orders, report.cancellations) == (1, 1)
    with stores.sessions() as session:
        uids = facade.customer_keys_to_uids(session, ["90001", "90002"])
    assert set(uids) == {"90001", "90002"}  # customers exist even when all their lines are rejected
    summary = facade.order_summary(stores.warehouse, uids["90001"])
    assert summary.order_count == 1 and str(summary.total_spend) == "15.30"
    # 10:00 British Summer Time is 09:00 UTC.
    assert summary.first_order_at == datetime(2011, 6, 1, 9, 0, tzinfo=UTC)


def test_products_take_the_most_common_description_and_latest_price(stores: Stores, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "1,22222,MUG RED,1,2011-01-01 10:00:00,1.00,1.0,UK\n"
        "2,22222,RED MUG,1,2011-01-02 10:00:00,1.10,1.0,UK\n"
        "3,22222,RED MUG,1,2011-01-03 10:00:00,1.25,1.0,UK\n",
    )
    import_online_retail(stores, CLI_OPERATOR, path)
    from sqlalchemy import select

    from tagora.profiles.models import Product

    with stores.sessions() as session:
        product = session.scalar(select(Product).where(Product.sku == "22222"))
    assert product is not None
    assert product.name == "RED MUG"
    assert str(product.price) == "1.2500"


def test_a_missing_column_fails_before_anything_is_written(stores: Stores, tmp_path: Path) -> None:
    path = write(
        tmp_path, "1,22222,MUG,1,2011-01-01 10:00:00,1.0,UK\n", header=HEADER.replace("CustomerID,", "")
    )
    with pytest.raises(AppError) as err:
        import_online_retail(stores, CLI_OPERATOR, path)
    assert "CustomerID" in err.value.message
    with stores.sessions() as session:
        assert facade.store_counts(session, stores.warehouse)["customers"] == 0


def test_an_unreadable_file_is_a_clear_error(stores: Stores, tmp_path: Path) -> None:
    bad = tmp_path / "broken.csv.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(AppError) as err:
        import_online_retail(stores, CLI_OPERATOR, bad)
    assert "broken.csv.gz" in err.value.message
    with pytest.raises(AppError):
        import_online_retail(stores, CLI_OPERATOR, tmp_path / "nope.csv")


def test_the_dataset_folder_loads_with_reasons_and_is_idempotent(stores: Stores) -> None:
    report = import_dataset(stores, CLI_OPERATOR, FIXTURES)
    assert report.rows_read == report.rows_loaded + report.rows_rejected == 24
    assert report.rejected_by_reason["order_lines:unknown_customer"] == 1
    assert report.rejected_by_reason["events:bad_properties"] == 1
    assert (report.orders, report.cancellations, report.order_lines) == (2, 1, 4)
    assert (report.events, report.interactions) == (2, 2)
    with stores.sessions() as session:
        before = facade.store_counts(session, stores.warehouse)
        uid = facade.customer_keys_to_uids(session, ["C001"])["C001"]
    summary = facade.order_summary(stores.warehouse, uid)
    assert summary.order_count == 1 and str(summary.total_spend) == "918.00"
    assert summary.first_order_at == datetime(2024, 1, 5, 12, 15, tzinfo=UTC)
    again = import_dataset(stores, CLI_OPERATOR, FIXTURES)
    with stores.sessions() as session:
        assert facade.store_counts(session, stores.warehouse) == before
    assert again.orders == again.events == again.interactions == 0


def test_an_empty_folder_is_a_clear_error(stores: Stores, tmp_path: Path) -> None:
    with pytest.raises(AppError) as err:
        import_dataset(stores, CLI_OPERATOR, tmp_path)
    assert "customers.csv" in err.value.message
