"""Order-line file imports on real SQLite + DuckDB: people on every fact, idempotence, chunks, bad rows."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tagora.cli import app
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.files.logic import import_customers_file, import_orders_file
from tagora.ingest.files.numbering import LineNumbers
from tagora.ingest.files.schemas import FileImportOptions
from tagora.profiles.facade import key_uids
from tests.conftest import run_cli

HEADER = ["order_id", "customer_key", "ordered_at", "sku", "quantity", "unit_price", "kind", "channel"]


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def add_customers(stores: Stores, tmp_path: Path, rows: list[list[str]], source: str = "crm") -> None:
    path = write_csv(tmp_path / f"customers-{source}.csv", ["customer_key", "phone"], rows)
    report = import_customers_file(stores, CLI_OPERATOR, path, FileImportOptions(source_system=source))
    assert report.rows_rejected == 0


def table(stores: Stores, name: str) -> list[dict[str, Any]]:
    t = stores.warehouse.table(name)
    return sorted(t.to_pyarrow().to_pylist(), key=lambda r: tuple(str(v) for v in r.values()))


def people(stores: Stores, keys: list[str]) -> dict[str, tuple[int, int]]:
    with stores.sessions() as session:
        return key_uids(session, keys)


@pytest.fixture
def two_customers(stores: Stores, tmp_path: Path) -> dict[str, tuple[int, int]]:
    add_customers(stores, tmp_path, [["C1", "13800138001"], ["C2", "13800138002"]])
    return people(stores, ["C1", "C2"])


LINES = [
    ["A1", "C1", "2024-03-01 10:00", "SKU1", "2", "¥10.50", "", "web"],
    ["A1", "C1", "2024-03-01 10:00", "SKU2", "1", "5", "", ""],
    ["A2", "C2", "2024/03/02 09:30", "SKU1", "-1", "10.50", "", "app"],  # a return
    ["A3", "C2", "2024-03-03T08:00:00Z", "SKU3", "3", "1,000", "退货", "shop"],
]


def test_order_lines_and_orders_carry_the_person_and_the_record_and_returns_are_cancellations(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    path = write_csv(tmp_path / "orders.csv", HEADER, LINES)
    report = import_orders_file(stores, CLI_OPERATOR, path, FileImportOptions(source_system="shop"))
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 4, 0)
    assert (report.records_written, report.orders_created) == (4, 3)
    lines = table(stores, "order_lines")
    c1, c2 = two_customers["C1"], two_customers["C2"]
    first = next(r for r in lines if r["order_id"] == "A1" and r["line_no"] == 1)
    assert (first["uid"], first["origin_uid"], first["source"]) == (c1[0], c1[1], "shop")
    assert first["ordered_at"] == datetime(2024, 3, 1, 2, 0, tzinfo=UTC)  # Asia/Shanghai by default
    assert (first["quantity"], first["unit_price"], first["amount"]) == (2, Decimal("10.5"), Decimal("21"))
    returned = [
        (r["order_id"], r["kind"], r["quantity"], r["amount"]) for r in lines if r["order_id"] != "A1"
    ]
    assert returned == [
        ("A2", "cancellation", -1, Decimal("-10.5")),
        ("A3", "cancellation", -3, Decimal("-3000")),
    ]
    orders = {o["order_id"]: o for o in table(stores, "orders")}
    assert (orders["A1"]["line_count"], orders["A1"]["amount"], orders["A1"]["channel"]) == (
        2,
        Decimal("26"),
        "web",
    )
    assert (orders["A2"]["kind"], orders["A2"]["uid"], orders["A2"]["origin_uid"]) == ("cancellation", *c2)


def test_importing_the_same_order_file_again_changes_nothing(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    path = write_csv(tmp_path / "orders.csv", HEADER, LINES)
    import_orders_file(stores, CLI_OPERATOR, path)
    lines, orders = table(stores, "order_lines"), table(stores, "orders")
    again = import_orders_file(stores, CLI_OPERATOR, path)
    assert (again.records_written, again.skipped_existing) == (0, 4)
    assert (again.orders_created, again.orders_updated) == (0, 0)
    assert table(stores, "order_lines") == lines and table(stores, "orders") == orders


def test_an_order_split_across_chunks_sums_all_its_lines(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    rows = [["B1", "C1", "2024-03-01", f"SKU{i}", "1", "2", "", "web"] for i in range(5)]
    path = write_csv(tmp_path / "orders.csv", HEADER, rows)
    report = import_orders_file(stores, CLI_OPERATOR, path, FileImportOptions(chunk_size=2))
    assert report.chunks_committed == 3
    assert (report.orders_created, report.orders_updated) == (1, 2)
    assert [r["line_no"] for r in table(stores, "order_lines")] == [1, 2, 3, 4, 5]
    (order,) = table(stores, "orders")
    assert (order["line_count"], order["amount"], order["channel"]) == (5, Decimal("10"), "web")


def test_a_rejected_line_fixed_and_imported_again_is_added_without_doubling_the_others(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    rows = [["D1", "C1", "2024-03-01", f"SKU{i}", "1", "2", "", ""] for i in range(3)]
    rows[1][4] = "one"
    path = write_csv(tmp_path / "orders.csv", HEADER, rows)
    first = import_orders_file(stores, CLI_OPERATOR, path)
    assert [(e.row, e.field, e.reason) for e in first.errors] == [(3, "quantity", "invalid_quantity")]
    rows[1][4] = "1"
    write_csv(path, HEADER, rows)
    fixed = import_orders_file(stores, CLI_OPERATOR, path)
    assert (fixed.records_written, fixed.skipped_existing, fixed.orders_updated) == (1, 2, 1)
    assert [r["sku"] for r in sorted(table(stores, "order_lines"), key=lambda r: r["line_no"])] == [
        "SKU0",
        "SKU1",
        "SKU2",
    ]
    assert table(stores, "orders")[0]["line_count"] == 3


def test_facts_of_customers_resolved_into_one_person_name_the_person_and_their_own_record(
    stores: Stores, tmp_path: Path
) -> None:
    # two systems know one person by the same phone (one system's keys never merge with each other)
    add_customers(stores, tmp_path, [["P1", "13900000001"]], source="crm")
    add_customers(stores, tmp_path, [["P2", "+86 139 0000 0001"]], source="shop")
    found = people(stores, ["P1", "P2"])
    assert found["P1"][0] == found["P2"][0] and found["P1"][1] != found["P2"][1]
    rows = [
        ["E1", "P1", "2024-01-01", "S", "1", "1", "", ""],
        ["E2", "P2", "2024-01-02", "S", "1", "1", "", ""],
    ]
    import_orders_file(stores, CLI_OPERATOR, write_csv(tmp_path / "o.csv", HEADER, rows))
    lines = {r["order_id"]: (r["uid"], r["origin_uid"]) for r in table(stores, "order_lines")}
    assert lines == {"E1": found["P1"], "E2": found["P2"]}


def test_unknown_customers_are_rejected_unless_they_are_to_be_created(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    rows = [
        ["F1", "C1", "2024-01-01", "S", "1", "1", "", ""],
        ["F2", "NEW", "2024-01-01", "S", "1", "1", "", ""],
    ]
    path = write_csv(tmp_path / "orders.csv", HEADER, rows)
    rejected = import_orders_file(stores, CLI_OPERATOR, path)
    assert [(e.row, e.field, e.reason, e.value) for e in rejected.errors] == [
        (3, "customer_key", "unknown_customer", "NEW")
    ]
    created = import_orders_file(stores, CLI_OPERATOR, path, FileImportOptions(create_customers=True))
    assert (created.customers_created, created.records_written, created.skipped_existing) == (1, 1, 1)
    new = people(stores, ["NEW"])["NEW"]
    assert {r["order_id"]: (r["uid"], r["origin_uid"]) for r in table(stores, "order_lines")}["F2"] == new


def test_a_mapping_with_chinese_columns_value_maps_and_its_own_line_numbers(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    header = ["订单号", "行号", "会员", "下单时间", "商品", "数量", "单价", "类型", "国家"]
    rows = [
        ["G1", "1", "C1", "01.03.2024 10:00", "S1", "1", "3", "正常", "中国"],
        ["G1", "2", "C1", "01.03.2024 10:00", "S2", "1", "4", "正常", "中国"],
        ["G1", "2", "C1", "01.03.2024 10:00", "S9", "1", "9", "正常", "中国"],  # a repeat: the first wins
    ]
    path = write_csv(tmp_path / "orders.csv", header, rows)
    mapping = tmp_path / "orders.yaml"
    mapping.write_text(
        "timezone: UTC\nfields:\n  order_id: 订单号\n  line_no: 行号\n  customer_key: 会员\n"
        "  ordered_at: {column: 下单时间, format: '%d.%m.%Y %H:%M'}\n  sku: 商品\n  quantity: 数量\n"
        "  unit_price: 单价\n  kind: {column: 类型, values: {正常: purchase}}\n  country: 国家\n",
        encoding="utf-8",
    )
    report = import_orders_file(stores, CLI_OPERATOR, path, FileImportOptions(mapping=mapping))
    assert (report.duplicates_in_file, report.records_written) == (1, 2)
    assert [r["sku"] for r in table(stores, "order_lines")] == ["S1", "S2"]
    (order,) = table(stores, "orders")
    assert (order["ordered_at"], order["country"], order["amount"]) == (
        datetime(2024, 3, 1, 10, tzinfo=UTC),
        "CN",
        Decimal("7"),
    )


def test_line_numbers_continue_per_order_across_chunks_and_skip_rows_without_an_order() -> None:
    numbers = LineNumbers()
    assert numbers.assign(["a", "b", "a", None, "c"]) == [1, 1, 2, None, 1]
    assert numbers.assign(["c", "a", "d", "a"]) == [2, 3, 1, 4]
    assert numbers.assign([]) == []


def five_percent_bad(path: Path, rows: int = 400) -> dict[int, tuple[str, str]]:
    """Writes ``rows`` order lines, every 20th one bad; returns file line -> (field, reason) expected."""
    bad: dict[int, tuple[str, str]] = {}
    kinds = [
        (2, "ordered_at", "invalid_date"),
        (4, "quantity", "invalid_quantity"),
        (1, "customer_key", "unknown_customer"),
        (0, "order_id", "missing_value"),
    ]
    out = []
    for i in range(rows):
        row = [f"H{i // 3}", "C1" if i % 2 else "C2", "2024-05-01 12:00", f"S{i}", "2", "9.90", "", "web"]
        if i % 20 == 7:
            column, field, reason = kinds[(i // 20) % 4]
            row[column] = {2: "31/02/2024", 4: "two", 1: "GHOST", 0: ""}[column]
            bad[i + 2] = (field, reason)  # the header is line 1
        out.append(row)
    write_csv(path, HEADER, out)
    return bad


def test_a_file_with_five_percent_bad_rows_loads_the_good_ones_and_reports_every_bad_one(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    path, errors = tmp_path / "orders.csv", tmp_path / "rejected.csv"
    bad = five_percent_bad(path)
    options = FileImportOptions(errors_path=errors, chunk_size=64)
    report = import_orders_file(stores, CLI_OPERATOR, path, options)
    assert (report.rows_read, report.rows_rejected, report.rows_loaded) == (400, 20, 380)
    with errors.open(encoding="utf-8-sig") as f:
        reported = {int(r["row"]): (r["field"], r["reason"]) for r in csv.DictReader(f)}
    assert reported == bad
    assert len(table(stores, "order_lines")) == 380 and report.chunks_committed == 7
    # every stored order sums exactly its stored lines: no chunk was half written
    totals: dict[str, int] = {}
    for line in table(stores, "order_lines"):
        totals[line["order_id"]] = totals.get(line["order_id"], 0) + 1
    assert {o["order_id"]: o["line_count"] for o in table(stores, "orders")} == totals


def test_all_or_nothing_writes_nothing_when_any_order_line_is_rejected(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    path = tmp_path / "orders.csv"
    five_percent_bad(path)
    report = import_orders_file(stores, CLI_OPERATOR, path, FileImportOptions(all_or_nothing=True))
    assert not report.written and report.rows_rejected == 20 and report.rows_loaded == 0
    assert table(stores, "order_lines") == [] and table(stores, "orders") == []
    preview = import_orders_file(stores, CLI_OPERATOR, path, FileImportOptions(preview=True))
    assert len(preview.preview) == 20 and table(stores, "order_lines") == []


def test_all_or_nothing_with_a_clean_file_writes_every_chunk(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    rows = [[f"K{i // 2}", "C1", "2024-01-01", "S", "1", "1", "", ""] for i in range(9)]
    path = write_csv(tmp_path / "orders.csv", HEADER, rows)
    options = FileImportOptions(all_or_nothing=True, chunk_size=4)
    report = import_orders_file(stores, CLI_OPERATOR, path, options)
    assert report.written and (report.records_written, report.chunks_committed) == (9, 3)
    assert len(table(stores, "orders")) == 5


def test_the_import_orders_events_and_interactions_commands_print_their_reports(
    cli_home: Path, tmp_path: Path
) -> None:
    orders = write_csv(tmp_path / "orders.csv", HEADER, LINES)
    refused = CliRunner().invoke(app, ["import", "orders", str(orders), "--all-or-nothing", "--json"])
    assert refused.exit_code == 2 and json.loads(refused.stdout)["rejected_by_reason"] == {
        "customer_key: unknown_customer": 4
    }
    report = json.loads(
        run_cli("import", "orders", str(orders), "--create-customers", "--source", "shop", "--json")
    )
    assert (report["customers_created"], report["records_written"], report["source_system"]) == (2, 4, "shop")
    events = write_csv(
        tmp_path / "events.csv", ["customer_key", "event", "occurred_at"], [["C1", "view", "2024-01-01"]]
    )
    stored = CliRunner().invoke(app, ["import", "events", str(events)])
    assert stored.exit_code == 0 and "stored 1 new events" in stored.output
    notes = write_csv(
        tmp_path / "notes.csv", ["customer_key", "kind", "occurred_at"], [["C2", "call", "2024-01-01"]]
    )
    preview = CliRunner().invoke(app, ["import", "interactions", str(notes), "--preview"])
    assert preview.exit_code == 0 and "nothing written" in preview.output
