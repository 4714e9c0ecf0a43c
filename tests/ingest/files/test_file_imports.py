"""Customer and product file imports on real SQLite + DuckDB: formats, mapping, dedupe, transactions."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.models import AuditEntry
from tagora.core.stores import Stores
from tagora.ingest.files import logic
from tagora.ingest.files.logic import import_customers_file, import_products_file
from tagora.ingest.files.schemas import FileImportOptions
from tagora.profiles import facade
from tagora.profiles.models import Customer, Product

FIXTURES = Path(__file__).parent / "fixtures"
MAPPING = FIXTURES / "customers.yaml"
PLAIN = ["customer_key", "name", "gender", "phone", "email", "province", "city", "registered_at"]
PLAIN_ROWS = [
    ["K1", "王芳", "女", "13800138000", "A@Example.com", "广东", "深圳", "2023-03-01 10:00"],
    ["K2", "Li Lei", "M", "+1 415 555 2671", "li@example.com", "Guangdong", "广州", "2023-03-02T00:00:00Z"],
]


def customers(stores: Stores) -> dict[str, Customer]:
    with stores.sessions() as session:
        return {c.customer_key: c for c in session.scalars(select(Customer))}


def customer_count(stores: Stores) -> int:
    with stores.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Customer)) or 0)


def options(**kw: Any) -> FileImportOptions:
    return FileImportOptions(**kw)


def assert_plain_rows_loaded(stores: Stores) -> None:
    stored = customers(stores)
    assert set(stored) == {"K1", "K2"}
    k1, k2 = stored["K1"], stored["K2"]
    assert (k1.name, k1.gender, k1.phone, k1.email) == ("王芳", "female", "+8613800138000", "a@example.com")
    assert (k1.province, k1.city) == ("广东省", "深圳市")
    assert k1.registered_at == datetime(2023, 3, 1, 2, 0, tzinfo=UTC)
    assert (k2.gender, k2.phone, k2.province, k2.city) == ("male", "+14155552671", "广东省", "广州市")
    assert k2.registered_at == datetime(2023, 3, 2, tzinfo=UTC)


def test_a_csv_with_a_mapping_and_value_maps_loads_normalized_customers(
    stores: Stores, tmp_path: Path
) -> None:
    report = import_customers_file(stores, CLI_OPERATOR, FIXTURES / "customers.csv", options(mapping=MAPPING))
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 3, 3)
    assert report.written and report.created == 2
    stored = customers(stores)
    assert set(stored) == {"M001", "M002"}
    wang = stored["M001"]
    assert (wang.name, wang.gender, wang.phone, wang.email) == (
        "王芳",
        "female",
        "+8613800138000",
        "wangfang@example.com",
    )
    assert (wang.province, wang.city, wang.birthday) == ("广东省", "深圳市", date(1990, 5, 12))
    assert wang.registered_at == datetime(2023, 3, 1, 2, 0, tzinfo=UTC)
    assert wang.member_tier == "diamond"  # the value map applied to the last row for M001
    assert stored["M002"].member_tier == "silver" and stored["M002"].province == "广东省"


def test_without_a_mapping_columns_named_like_the_fields_map_themselves(
    stores: Stores, tmp_path: Path
) -> None:
    path = tmp_path / "plain.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([[c.replace("_", " ").title() for c in PLAIN], *PLAIN_ROWS])
    report = import_customers_file(stores, CLI_OPERATOR, path)
    assert report.rows_loaded == 2 and report.rows_rejected == 0
    assert_plain_rows_loaded(stores)


def test_an_excel_workbook_is_read_row_by_row(stores: Stores, tmp_path: Path) -> None:
    path = tmp_path / "customers.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(PLAIN)
    sheet.append([*PLAIN_ROWS[0][:3], 13800138000, *PLAIN_ROWS[0][4:7], datetime(2023, 3, 1, 10, 0)])
    sheet.append([])
    sheet.append(PLAIN_ROWS[1])
    sheet.append(["K3", "Bad", "?", "", "", "", "", ""])
    book.save(path)
    report = import_customers_file(stores, CLI_OPERATOR, path)
    assert report.format == "excel" and report.rows_read == 3 and report.rows_loaded == 2
    assert [(e.row, e.field) for e in report.errors] == [(5, "gender")]  # sheet row 5
    assert_plain_rows_loaded(stores)


def test_json_lines_are_read_line_by_line_and_a_broken_line_is_rejected(
    stores: Stores, tmp_path: Path
) -> None:
    path = tmp_path / "customers.jsonl"
    lines = [json.dumps(dict(zip(PLAIN, row, strict=True)), ensure_ascii=False) for row in PLAIN_ROWS]
    path.write_text(lines[0] + "\n{not json\n\n" + lines[1] + "\n", encoding="utf-8")
    report = import_customers_file(stores, CLI_OPERATOR, path)
    assert report.format == "jsonl" and report.rows_read == 3 and report.rows_loaded == 2
    assert [(e.row, e.field, e.reason) for e in report.errors] == [(2, "_row", "invalid_json")]
    assert_plain_rows_loaded(stores)


def test_a_parquet_file_is_read_in_batches(stores: Stores, tmp_path: Path) -> None:
    path = tmp_path / "customers.parquet"
    columns = {c: [row[i] for row in PLAIN_ROWS] for i, c in enumerate(PLAIN)}
    pq.write_table(pa.table(columns), path, row_group_size=1)
    report = import_customers_file(stores, CLI_OPERATOR, path, options(chunk_size=1))
    assert report.format == "parquet" and report.rows_loaded == 2 and report.chunks_committed == 2
    assert_plain_rows_loaded(stores)


def test_products_load_with_prices_and_category_paths(stores: Stores) -> None:
    report = import_products_file(stores, CLI_OPERATOR, FIXTURES / "products.csv")
    assert (report.rows_loaded, report.rows_rejected) == (2, 2)
    assert report.rejected_by_reason == {"name: missing_value": 1, "price: invalid_price": 1}
    with stores.sessions() as session:
        stored = {p.sku: p for p in session.scalars(select(Product))}
    assert set(stored) == {"SKU-1", "SKU-2"}
    assert stored["SKU-1"].category_path == "服装/女装/连衣裙"
    assert stored["SKU-1"].price == Decimal("399.0000") and stored["SKU-2"].price == Decimal("1259.5000")


def _products(stores: Stores) -> dict[str, Product]:
    with stores.sessions() as session:
        return {p.sku: p for p in session.scalars(select(Product))}


def test_a_price_list_updates_products_in_the_catalogue_and_refuses_new_ones_without_a_name(
    stores: Stores, tmp_path: Path
) -> None:
    import_products_file(stores, CLI_OPERATOR, FIXTURES / "products.csv")  # SKU-1 and SKU-2
    prices = tmp_path / "prices.csv"
    prices.write_text("sku,price\nSKU-1,459\nSKU-9,10\nSKU-2,1199.5\n", encoding="utf-8")
    report = import_products_file(stores, CLI_OPERATOR, prices)
    assert (report.rows_loaded, report.rows_rejected) == (2, 1)
    (error,) = report.errors
    assert (error.row, error.field, error.reason) == (3, "name", "missing_value")
    assert error.message == "'SKU-9' is not in the catalogue: a new product needs name and category_path"
    stored = _products(stores)
    assert "SKU-9" not in stored
    assert (stored["SKU-1"].name, stored["SKU-1"].category_path) == ("真丝连衣裙", "服装/女装/连衣裙")
    assert stored["SKU-1"].price == Decimal("459.0000") and stored["SKU-2"].price == Decimal("1199.5000")


def test_a_later_row_may_complete_a_product_an_earlier_row_of_the_file_introduced(
    stores: Stores, tmp_path: Path
) -> None:
    path = tmp_path / "new.csv"
    path.write_text(
        "sku,name,category_path,price\nNEW-1,Scarf,配饰/围巾,\nNEW-1,,,25\nNEW-2,Hat,,9\n", encoding="utf-8"
    )
    for chunk_size in (1, 10):  # in one chunk, and a row per chunk
        report = import_products_file(stores, CLI_OPERATOR, path, FileImportOptions(chunk_size=chunk_size))
        assert (report.rows_loaded, report.rows_rejected) == (2, 1)
        assert [(e.row, e.field) for e in report.errors] == [(4, "category_path")]
    stored = _products(stores)
    assert (stored["NEW-1"].name, stored["NEW-1"].price) == (
        "Scarf",
        Decimal("25.0000"),
    ) and "NEW-2" not in stored


def test_the_last_row_for_a_key_wins_and_the_repeat_is_reported(stores: Stores, tmp_path: Path) -> None:
    path = tmp_path / "dupes.csv"
    path.write_text(
        "customer_key,name,member_tier\nD1,First,silver\nD2,Other,\nD1,Second,gold\n", encoding="utf-8"
    )
    report = import_customers_file(stores, CLI_OPERATOR, path)
    assert report.duplicates_in_file == 1 and report.duplicate_keys == ["D1"]
    assert report.records_written == 2
    assert customers(stores)["D1"].name == "Second" and customers(stores)["D1"].member_tier == "gold"


def test_repeats_across_chunks_are_reported_and_the_last_row_still_wins(
    stores: Stores, tmp_path: Path
) -> None:
    path = tmp_path / "dupes.csv"
    path.write_text("customer_key,name\nD1,First\nD2,Other\nD1,Second\n", encoding="utf-8")
    report = import_customers_file(stores, CLI_OPERATOR, path, options(chunk_size=2))
    assert report.duplicates_in_file == 1 and report.chunks_committed == 2
    assert customers(stores)["D1"].name == "Second"


def test_a_second_file_completes_stored_customers_without_blanking_them(
    stores: Stores, tmp_path: Path
) -> None:
    import_customers_file(stores, CLI_OPERATOR, FIXTURES / "customers.csv", options(mapping=MAPPING))
    path = tmp_path / "update.csv"
    path.write_text("customer_key,name,email,member_tier\nM001,,,gold\nM999,New,new@example.com,\n")
    report = import_customers_file(stores, CLI_OPERATOR, path)
    assert (report.created, report.updated) == (1, 1)
    wang = customers(stores)["M001"]
    assert (wang.name, wang.email, wang.member_tier) == ("王芳", "wangfang@example.com", "gold")
    assert customer_count(stores) == 3


def test_all_or_nothing_writes_nothing_when_any_row_is_rejected(stores: Stores) -> None:
    report = import_customers_file(
        stores, CLI_OPERATOR, FIXTURES / "customers.csv", options(mapping=MAPPING, all_or_nothing=True)
    )
    assert report.rows_rejected == 3 and not report.written and report.records_written == 0
    assert (report.rows_valid, report.rows_loaded) == (3, 0)
    assert customer_count(stores) == 0


def test_all_or_nothing_writes_a_clean_file_in_one_transaction(stores: Stores, tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    path.write_text("customer_key,name\n" + "".join(f"C{i},Name {i}\n" for i in range(10)))
    report = import_customers_file(stores, CLI_OPERATOR, path, options(all_or_nothing=True, chunk_size=3))
    assert report.written and report.records_written == 10 and report.chunks_committed == 4
    assert customer_count(stores) == 10
    with stores.sessions() as session:
        audits = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "import.customers_file")))
    assert len(audits) == 1 and audits[0].detail["mode"] == "all-or-nothing"


def test_preview_validates_everything_and_writes_nothing(stores: Stores, tmp_path: Path) -> None:
    errors = tmp_path / "rejected.csv"
    report = import_customers_file(
        stores,
        CLI_OPERATOR,
        FIXTURES / "customers.csv",
        options(mapping=MAPPING, preview=True, errors_path=errors),
    )
    assert report.mode == "preview" and not report.written and report.rows_rejected == 3
    assert (report.rows_valid, report.rows_loaded) == (3, 0)
    assert [r["customer_key"] for r in report.preview] == ["M002", "M001"]
    assert report.preview[1]["phone"] == "+8613800138000"
    assert customer_count(stores) == 0
    assert errors.exists()


def test_the_error_csv_names_the_row_the_field_and_the_reason(stores: Stores, tmp_path: Path) -> None:
    errors = tmp_path / "rejected.csv"
    import_customers_file(
        stores, CLI_OPERATOR, FIXTURES / "customers.csv", options(mapping=MAPPING, errors_path=errors)
    )
    with errors.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["row"], r["field"], r["reason"], r["value"]) for r in rows] == [
        ("4", "email", "invalid_email", "bad-email"),
        ("5", "gender", "unknown_gender", "X"),
        ("5", "phone", "invalid_phone", "12345"),
        ("5", "registered_at", "invalid_date", "not a date"),
        ("7", "customer_key", "missing_value", ""),
    ]


def test_error_csv_cells_cannot_run_as_spreadsheet_formulas(stores: Stores, tmp_path: Path) -> None:
    path, errors = tmp_path / "evil.csv", tmp_path / "rejected.csv"
    path.write_text('customer_key,email\nE1,"=HYPERLINK(""http://x"")"\n', encoding="utf-8")
    import_customers_file(stores, CLI_OPERATOR, path, options(errors_path=errors))
    row = next(csv.DictReader(errors.open(encoding="utf-8-sig", newline="")))
    assert row["value"].startswith("'=")


def test_a_gbk_encoded_csv_from_excel_is_read(stores: Stores, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("customer_key,name,province\nG1,王芳,广东\n".encode("gbk"))
    import_customers_file(stores, CLI_OPERATOR, path)
    assert customers(stores)["G1"].name == "王芳" and customers(stores)["G1"].province == "广东省"


@pytest.mark.parametrize(
    ("mapping_text", "suffix", "message"),
    [
        ("customer_key: 会员编号\nshoe_size: 尺码\n", ".yaml", "unknown customers field 'shoe_size'"),
        ('{"customer_key": "会员编号", "name": "没有这列"}', ".json", "column '没有这列' (mapped to name)"),
        ("customer_key: [oops", ".yaml", "not valid YAML"),
        ("fields: {customer_key: 会员编号}\ntimezone: Mars/Base\n", ".yaml", "unknown time zone"),
    ],
)
def test_a_bad_mapping_is_a_clear_error_naming_the_field(
    stores: Stores, tmp_path: Path, mapping_text: str, suffix: str, message: str
) -> None:
    mapping = tmp_path / f"mapping{suffix}"
    mapping.write_text(mapping_text, encoding="utf-8")
    with pytest.raises(AppError) as info:
        import_customers_file(stores, CLI_OPERATOR, FIXTURES / "customers.csv", options(mapping=mapping))
    assert message in info.value.message


def test_unreadable_and_unsupported_files_are_clear_errors(stores: Stores, tmp_path: Path) -> None:
    not_excel = tmp_path / "customers.xlsx"
    not_excel.write_text("hello")
    with pytest.raises(AppError, match="cannot read"):
        import_customers_file(stores, CLI_OPERATOR, not_excel)
    shutil.copy(FIXTURES / "customers.csv", tmp_path / "customers.pdf")
    with pytest.raises(AppError, match="unsupported file type"):
        import_customers_file(stores, CLI_OPERATOR, tmp_path / "customers.pdf")
    with pytest.raises(AppError, match="cannot write the error report"):
        unwritable = options(mapping=MAPPING, errors_path=tmp_path / "no" / "e.csv")
        import_customers_file(stores, CLI_OPERATOR, FIXTURES / "customers.csv", unwritable)
    with pytest.raises(AppError, match="unknown default region"):
        import_customers_file(stores, CLI_OPERATOR, FIXTURES / "customers.csv", options(default_region="ZZ"))


def fail_on_call(monkeypatch: pytest.MonkeyPatch, failing_call: int) -> None:
    """The n-th upsert writes its rows and then fails, as a database error half-way through would."""
    calls = {"n": 0}

    def upsert(session: Session, *args: Any) -> dict[str, int]:
        calls["n"] += 1
        uids = facade.upsert_customers(session, *args)
        if calls["n"] == failing_call:
            raise OperationalError("UPSERT", {}, Exception("disk I/O error"))
        return uids

    monkeypatch.setattr(logic, "upsert_customers", upsert)


def numbered_file(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "numbered.csv"
    path.write_text("customer_key,name\n" + "".join(f"N{i},Name {i}\n" for i in range(rows)))
    return path


def test_a_failed_chunk_is_rolled_back_whole_and_the_error_says_what_was_committed(
    stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_on_call(monkeypatch, failing_call=2)
    with pytest.raises(AppError) as info:
        import_customers_file(stores, CLI_OPERATOR, numbered_file(tmp_path, 9), options(chunk_size=4))
    assert info.value.code == "write_failed"
    assert "1 earlier chunk(s) (4 records) were committed" in info.value.message
    assert sorted(customers(stores)) == ["N0", "N1", "N2", "N3"]  # chunk 1 only, nothing of chunk 2


def test_an_all_or_nothing_write_that_fails_leaves_nothing_behind(
    stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_on_call(monkeypatch, failing_call=3)
    path = numbered_file(tmp_path, 9)
    with pytest.raises(AppError, match="nothing was written"):
        import_customers_file(stores, CLI_OPERATOR, path, options(chunk_size=4, all_or_nothing=True))
    assert customer_count(stores) == 0
