"""The one export writer: typed Excel cells, OWASP-neutralised CSV, the phone format, caps and audit rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, update

from tagora.core import exports
from tagora.core.auth import CLI_OPERATOR
from tagora.core.db import transaction
from tagora.core.errors import AppError
from tagora.core.exports import ExportOptions, FileFormat, PhoneFormat
from tagora.core.models import AuditEntry
from tagora.core.stores import Stores, open_stores
from tagora.profiles.models import Customer
from tagora.recs import logic as recs
from tagora.settings import get_settings
from tagora.tags.logic import assign_tag
from tests.audiences.test_segments_api import GOLD
from tests.audiences.test_segments_api import seed as seed_segments
from tests.conftest import login, run_cli
from tests.console.seed import seed as seed_console
from tests.recs.seed import seed as seed_recs
from tests.tags.test_assign import install_complained

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 only with the mark
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_get_a_leading_quote() -> None:
    rows = _csv(exports.to_bytes(FileFormat.CSV, ["value"], [[v] for v in HOSTILE]))
    assert [r[0] for r in rows[1:]] == ["'" + v for v in HOSTILE]


def test_csv_keeps_plain_numbers_and_e164_phones_usable() -> None:
    values = ["+8613800000000", "-79.50", "13800000000", "+44", "Alice", "李娜"]
    rows = _csv(exports.to_bytes(FileFormat.CSV, ["value"], [[v] for v in values]))
    assert [r[0] for r in rows[1:]] == values


def test_xlsx_cells_are_typed_text_stays_text_and_nothing_is_a_formula() -> None:
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    header = ["name", "phone", "amount", "count", "at", "error"]
    row = ["=cmd|' /C calc'!A0", "+8613800000000", Decimal("12.50"), 3, when, "#N/A"]
    book = load_workbook(io.BytesIO(exports.to_bytes(FileFormat.XLSX, header, [row])))
    cells = next(book.active.iter_rows(min_row=2))
    assert [c.value for c in cells[:2]] == ["=cmd|' /C calc'!A0", "+8613800000000"]
    assert [c.data_type for c in cells] == ["s", "s", "n", "n", "d", "s"]
    assert cells[2].value == 12.5 and cells[4].value == datetime(2026, 3, 1, 9, 30)
    assert not any(str(c.value).startswith("'") for c in cells)


def test_control_characters_and_lone_surrogates_are_replaced_not_a_crash() -> None:
    row = ["a\x00b", "x\ud800y"]
    book = load_workbook(io.BytesIO(exports.to_bytes(FileFormat.XLSX, ["a", "b"], [row])))
    assert [c.value for c in next(book.active.iter_rows(min_row=2))] == ["a\ufffdb", "x?y"]
    assert _csv(exports.to_bytes(FileFormat.CSV, ["a", "b"], [row]))[1] == ["a\ufffdb", "x?y"]


def test_the_phone_format_is_chosen_in_the_export_and_masked_phones_stay_masked() -> None:
    rows = [["13812341234"], ["+86 138 1234 5678"], ["138****1234"], ["not a phone"]]
    for fmt, expected in [
        (PhoneFormat.E164, ["+8613812341234", "+8613812345678"]),
        (PhoneFormat.NATIONAL, ["13812341234", "13812345678"]),
    ]:
        options = ExportOptions(phone_columns=("phone",), phone_format=fmt, region="CN")
        written = _csv(exports.to_bytes(FileFormat.CSV, ["phone"], rows, options))
        assert [r[0] for r in written[1:]] == [*expected, "138****1234", "not a phone"]


def test_json_lines_hold_one_object_per_row() -> None:
    body = exports.to_bytes(FileFormat.JSONL, ["a", "b"], [["=x", 1], [None, Decimal("2.5")]])
    assert [json.loads(line) for line in body.decode().splitlines()] == [
        {"a": "=x", "b": 1},
        {"a": None, "b": "2.5"},
    ]


def test_an_unknown_format_or_phone_format_is_refused_naming_the_field() -> None:
    with pytest.raises(AppError) as caught:
        exports.file_format("pdf")
    assert caught.value.status == 422 and caught.value.data["field"] == "format"
    with pytest.raises(AppError) as caught:
        exports.phone_format("local")
    assert caught.value.status == 422 and caught.value.data["field"] == "phone_format"


def test_a_segment_export_in_excel_has_phones_as_plain_text_and_is_audited_with_its_rows(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    seed_segments(stores)
    login(client, users["admin"])
    assert client.post("/api/segments", json={"code": "gold", "name": "Gold", "expression": GOLD}).is_success
    response = client.get("/api/segments/gold/export", params={"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("customer_key", "name", "phone") and len(rows) == 11
    assert rows[1][1] == "=cmd|' /C calc'!A0"  # text, not a formula
    assert rows[1][2] == "+8613800000000"  # no literal apostrophe
    national = client.get("/api/segments/gold/export", params={"phone_format": "national"})
    assert _csv(national.content)[1][2] == "13800000000"
    with stores.sessions() as session:
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "segment.export")).all()
    assert [a.detail["rows"] for a in audits] == [10, 10]


def test_bulk_exports_and_lookalike_lists_are_capped_per_role_by_a_setting(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    seed_segments(stores)
    stores.settings.export_max_rows["sales"] = 5
    login(client, users["marketer"])
    assert client.post("/api/segments", json={"code": "gold", "name": "Gold", "expression": GOLD}).is_success
    assert client.get("/api/segments/gold/export").status_code == 200
    login(client, users["sales"])
    refused = client.get("/api/segments/gold/export")
    assert refused.status_code == 403
    assert refused.json()["error"]["data"] == {"rows": 10, "limit": 5, "role": "sales"}
    assert client.get("/api/segments/gold/lookalike", params={"n": 6}).status_code == 403
    assert client.get("/api/segments/gold/lookalike", params={"n": 5}).status_code == 200


def test_recommendation_exports_are_neutralised_capped_and_audited(stores: Stores, tmp_path: Path) -> None:
    seed_recs(stores)
    hostile = '=HYPERLINK("http://evil.example","click")'
    with transaction(stores.sessions) as session:
        session.execute(update(Customer).where(Customer.customer_key == "KC01").values(customer_key=hostile))
    recs.train_model(stores, CLI_OPERATOR)
    assert recs.export_recommendations(stores, CLI_OPERATOR, tmp_path / "recs.csv", n=2) == 80
    keys = {r[0] for r in _csv((tmp_path / "recs.csv").read_bytes())[1:]}
    assert "'" + hostile in keys and hostile not in keys
    recs.export_recommendations(stores, CLI_OPERATOR, tmp_path / "recs.xlsx", n=2, fmt="xlsx")
    cells = [row[0] for row in load_workbook(tmp_path / "recs.xlsx").active.iter_rows(min_row=2)]
    hostile_cells = [c for c in cells if c.value == hostile]
    assert hostile_cells and all(c.data_type == "s" for c in hostile_cells)
    stores.settings.export_max_rows["admin"] = 79
    with pytest.raises(AppError) as caught:
        recs.export_recommendations(stores, CLI_OPERATOR, tmp_path / "big.csv", n=2)
    assert caught.value.status == 403 and not (tmp_path / "big.csv").exists()
    with stores.sessions() as session:
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "recs.export")).all()
    assert [(a.detail["rows"], a.detail["format"]) for a in audits] == [(80, "csv"), (80, "xlsx")]


def test_the_customer_export_writes_excel_with_phones_in_the_chosen_format_capped_for_sales(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    seed_console(stores)
    login(client, users["admin"])
    response = client.get("/api/customers/export", params={"format": "xlsx", "phone_format": "national"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("customer_key", "name", "phone") and rows[1][:3] == (
        "C001",
        "Alice Wang",
        "13812341234",
    )
    legacy = _csv(client.get("/api/customers/export.csv").content)
    assert legacy[1][2] == "+8613812341234"
    stores.settings.export_max_rows["sales"] = 3
    login(client, users["sales"])
    refused = client.get("/api/customers/export.csv")
    assert refused.status_code == 403 and refused.json()["error"]["data"]["limit"] == 3
    assert client.get("/api/customers/export", params={"q": "Alice"}).status_code == 200
    with stores.sessions() as session:
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.export")).all()
    assert [(a.detail["rows"], a.detail["format"]) for a in audits] == [(4, "xlsx"), (4, "csv"), (1, "csv")]


def test_the_cli_exports_customers_to_excel(cli_home: Path, tmp_path: Path) -> None:
    stores = open_stores(get_settings())
    seed_console(stores)
    stores.close()
    out = tmp_path / "customers.xlsx"
    run_cli("customers", "export", "-o", str(out), "--phone-format", "national")
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[1][2] == "13812341234" and len(rows) == 5
    assert run_cli("customers", "export").startswith("\ufeffcustomer_key,")


def _error_code(response: object, status: int) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    return str(response.json()["error"]["code"])  # type: ignore[attr-defined]


def test_a_tag_export_writes_every_customers_value_masked_per_role_and_audited(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    uids = seed_console(stores)
    install_complained(stores)
    with transaction(stores.sessions) as session:
        session.execute(update(Customer).where(Customer.customer_key == "C002").values(customer_key="=1+1"))
    assign_tag(stores, CLI_OPERATOR, "complained", {uids["C001"]: True, uids["C002"]: False})
    login(client, users["admin"])
    rows = _csv(client.get("/api/tags/complained/export").content)
    assert rows[0] == ["customer_key", "value", "weight", "computed_at", "source"]
    assert sorted((r[0], r[1]) for r in rows[1:]) == [("'=1+1", "false"), ("C001", "true")]
    sheet = load_workbook(io.BytesIO(client.get("/api/tags/complained/export?format=xlsx").content)).active
    assert {r[0] for r in sheet.iter_rows(min_row=2, values_only=True)} == {"C001", "=1+1"}
    assert _error_code(client.get("/api/tags/nope/export"), 404) == "not_found"
    stores.settings.export_max_rows["analyst"] = 1
    login(client, users["analyst"])
    assert client.get("/api/tags/complained/export").status_code == 403
    with stores.sessions() as session:
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "tag.export")).all()
    assert [(a.detail["rows"], a.detail["format"]) for a in audits] == [(2, "csv"), (2, "xlsx")]


def test_the_audit_log_exports_for_audit_readers_only_and_the_export_is_audited(
    client: TestClient, stores: Stores, users: dict[str, str], cli_home: Path, tmp_path: Path
) -> None:
    seed_console(stores)
    login(client, users["admin"])
    client.get("/api/customers/C001")
    rows = _csv(client.get("/api/audit/export", params={"action": "customer.view"}).content)
    assert rows[0] == ["id", "at", "actor", "action", "target_type", "target_id", "detail"]
    assert [(r[2], r[3]) for r in rows[1:]] == [(users["admin"], "customer.view")]
    assert json.loads(rows[1][6])["masked"] is False
    everything = _csv(client.get("/api/audit/export").content)
    assert len(everything) > 2 and everything[-1][3] == "audit.export"  # the first export, audited
    login(client, users["marketer"])
    assert client.get("/api/audit/export").status_code == 403
    run_cli("audit", "export", "-o", str(tmp_path / "audit.xlsx"))  # cli_home is the same home
    sheet = load_workbook(tmp_path / "audit.xlsx").active
    assert next(sheet.iter_rows(values_only=True))[:4] == ("id", "at", "actor", "action")
    assert sheet.max_row > 1
