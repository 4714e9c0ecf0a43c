"""Event and interaction file imports: ids, properties, anonymous devices stitched, dedupe, bad rows."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.ingest.files.logic import import_events_file, import_interactions_file
from tagora.ingest.files.schemas import FileImportOptions
from tagora.profiles.models import Interaction

from .test_order_imports import add_customers, people, table, write_csv

EVENT_HEADER = [
    "event_id",
    "customer_key",
    "anonymous_id",
    "event",
    "occurred_at",
    "channel",
    "sku",
    "properties",
]


@pytest.fixture
def two_customers(stores: Stores, tmp_path: Path) -> dict[str, tuple[int, int]]:
    add_customers(stores, tmp_path, [["C1", "13800138001"], ["C2", "13800138002"]])
    return people(stores, ["C1", "C2"])


def events(stores: Stores) -> dict[str, dict[str, Any]]:
    return {e["event_id"]: e for e in table(stores, "events")}


def test_events_load_with_their_people_and_properties_and_a_reimport_changes_nothing(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    rows = [
        ["e1", "C1", "", "view", "2024-03-01 10:00", "web", "SKU1", '{"page": "/p/1"}'],
        ["e2", "", "anon-9", "view", "2024-03-01 10:05", "web", "", ""],
        ["e3", "C2", "", "add_to_cart", "1709258400", "app", "SKU2", "{}"],
    ]
    path = write_csv(tmp_path / "events.csv", EVENT_HEADER, rows)
    report = import_events_file(stores, CLI_OPERATOR, path)
    assert (report.rows_loaded, report.records_written) == (3, 3)
    stored = events(stores)
    assert (stored["e1"]["uid"], stored["e1"]["origin_uid"]) == two_customers["C1"]
    assert json.loads(stored["e1"]["properties"]) == {"page": "/p/1"}
    assert stored["e1"]["occurred_at"] == datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    assert stored["e2"]["uid"] is None and stored["e2"]["anonymous_id"] == "anon-9"
    assert stored["e3"]["occurred_at"] == datetime(2024, 3, 1, 2, 0, tzinfo=UTC)  # Unix seconds
    again = import_events_file(stores, CLI_OPERATOR, path)
    assert (again.records_written, again.skipped_existing) == (0, 3)
    assert events(stores) == stored


def test_an_event_that_ties_a_device_to_a_customer_stitches_the_device_s_anonymous_events(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    earlier = [["a1", "", "dev-1", "view", "2024-03-01 09:00", "web", "", ""]]
    import_events_file(stores, CLI_OPERATOR, write_csv(tmp_path / "a.csv", EVENT_HEADER, earlier))
    later = [
        ["a2", "C2", "dev-1", "login", "2024-03-01 09:10", "web", "", ""],
        ["a3", "", "dev-1", "view", "2024-03-01 09:20", "web", "", ""],
    ]
    import_events_file(stores, CLI_OPERATOR, write_csv(tmp_path / "b.csv", EVENT_HEADER, later))
    stored = events(stores)
    assert {k: (e["uid"], e["origin_uid"]) for k, e in stored.items()} == dict.fromkeys(
        ("a1", "a2", "a3"), two_customers["C2"]
    )


def test_events_without_ids_get_stable_ids_from_their_content_and_extra_columns_become_properties(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    header = ["customer_key", "event", "occurred_at", "page", "referrer"]
    rows = [
        ["C1", "view", "2024-03-01 10:00", "/home", ""],
        ["C1", "view", "2024-03-01 10:00", "/home", ""],  # the same event twice: one event
        ["C1", "view", "2024-03-01 10:01", "/p/2", "baidu"],
    ]
    path = write_csv(tmp_path / "events.csv", header, rows)
    report = import_events_file(stores, CLI_OPERATOR, path)
    assert (report.records_written, report.duplicates_in_file) == (2, 1)
    stored = events(stores)
    assert all(k.startswith("gen:") for k in stored)
    assert sorted(e["properties"] for e in stored.values()) == [
        '{"page":"/home"}',
        '{"page":"/p/2","referrer":"baidu"}',
    ]
    # the same rows as Parquet get the same ids, so nothing is stored twice
    pq.write_table(pa.table({h: [r[i] for r in rows] for i, h in enumerate(header)}), tmp_path / "e.parquet")
    again = import_events_file(stores, CLI_OPERATOR, tmp_path / "e.parquet")
    assert (again.records_written, again.skipped_existing) == (0, 2)


def test_a_mapping_folds_named_columns_into_the_json_properties(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    header = ["编号", "会员", "事件", "时间", "属性", "金额"]
    rows = [["x1", "C1", "支付", "2024-03-01 10:00", '{"coupon": "A"}', "99.5"]]
    path = write_csv(tmp_path / "events.csv", header, rows)
    mapping = tmp_path / "events.json"
    mapping.write_text(
        json.dumps(
            {"event_id": "编号", "customer_key": "会员", "occurred_at": "时间", "properties": "属性",
             "properties.amount": "金额", "event": {"column": "事件", "values": {"支付": "pay"}}}
        ),
        encoding="utf-8",
    )  # fmt: skip
    report = import_events_file(stores, CLI_OPERATOR, path, FileImportOptions(mapping=mapping))
    assert report.rows_rejected == 0, report.errors
    stored = events(stores)["x1"]
    assert (stored["event"], json.loads(stored["properties"])) == ("pay", {"coupon": "A", "amount": "99.5"})


def test_bad_event_rows_are_reported_by_row_field_and_reason(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    good = ["g", "C1", "", "view", "2024-03-01 10:00", "web", "", "{}"]
    rows = [[f"g{i}", *good[1:]] for i in range(95)]
    rows[10] = ["b1", "C1", "", "view", "2024-03-01 10:00", "web", "", "{not json"]
    rows[20] = ["b2", "C1", "", "view", "2024-03-01 10:00", "web", "", "[1, 2]"]
    rows[30] = ["b3", "", "", "view", "2024-03-01 10:00", "web", "", ""]
    rows[40] = ["b4", "NOBODY", "", "view", "2024-03-01 10:00", "web", "", ""]
    rows[50] = ["b5", "C1", "", "view", "yesterday", "web", "", ""]
    errors = tmp_path / "rejected.csv"
    path = write_csv(tmp_path / "events.csv", EVENT_HEADER, rows)
    report = import_events_file(stores, CLI_OPERATOR, path, FileImportOptions(errors_path=errors))
    expected = [
        (12, "properties", "invalid_json"),
        (22, "properties", "invalid_json"),
        (32, "customer_key", "missing_identity"),
        (42, "customer_key", "unknown_customer"),
        (52, "occurred_at", "invalid_date"),
    ]
    assert [(e.row, e.field, e.reason) for e in report.errors] == expected
    with errors.open(encoding="utf-8-sig") as f:
        assert [(int(r["row"]), r["field"], r["reason"]) for r in csv.DictReader(f)] == expected
    assert (report.rows_loaded, len(events(stores))) == (90, 90)
    nothing = import_events_file(
        stores, CLI_OPERATOR, path, FileImportOptions(all_or_nothing=True, source_system="again")
    )
    assert not nothing.written and len(events(stores)) == 90


def test_an_events_file_must_name_the_person_somehow(stores: Stores, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.csv", ["event", "occurred_at"], [["view", "2024-01-01"]])
    with pytest.raises(AppError) as caught:
        import_events_file(stores, CLI_OPERATOR, path)
    assert caught.value.data["field"] == "customer_key"


INTERACTION_HEADER = ["customer_key", "kind", "body", "author", "occurred_at"]


def interactions(stores: Stores) -> list[tuple[int, int, str, str, str]]:
    with stores.sessions() as session:
        return [
            (i.uid, i.origin_uid, i.kind, i.body, i.author)
            for i in session.scalars(select(Interaction).order_by(Interaction.id))
        ]


def test_interactions_load_once_and_bad_ones_are_reported(
    stores: Stores, tmp_path: Path, two_customers: dict[str, tuple[int, int]]
) -> None:
    rows = [
        ["C1", "Call", "asked about\nthe refund", "li", "2024-03-01 10:00"],
        ["C1", "call", "asked about\nthe refund", "li", "2024-03-01 10:00"],  # the same interaction
        ["C2", "visit", "store visit", "wang", "2024-03-02"],
        ["C2", "fax", "", "", "2024-03-02"],
        ["GHOST", "note", "", "", "2024-03-02"],
        ["C2", "note", "", "", ""],
    ]
    path = write_csv(tmp_path / "interactions.csv", INTERACTION_HEADER, rows)
    report = import_interactions_file(stores, CLI_OPERATOR, path)
    assert [(e.row, e.field, e.reason) for e in report.errors] == [  # lines: the notes span two each
        (7, "kind", "invalid_kind"),
        (8, "customer_key", "unknown_customer"),
        (9, "occurred_at", "missing_value"),
    ]
    assert (report.records_written, report.duplicates_in_file) == (2, 1)
    c1, c2 = two_customers["C1"], two_customers["C2"]
    assert interactions(stores) == [
        (*c1, "call", "asked about\nthe refund", "li"),
        (*c2, "visit", "store visit", "wang"),
    ]
    again = import_interactions_file(stores, CLI_OPERATOR, path)
    assert (again.records_written, again.skipped_existing) == (0, 2)
    assert len(interactions(stores)) == 2


def test_interactions_for_new_customers_create_them_when_asked_all_or_nothing(
    stores: Stores, tmp_path: Path
) -> None:
    rows = [["N1", "note", "first contact", "", "2024-03-01"], ["N2", "call", "", "", "2024-03-01"]]
    path = write_csv(tmp_path / "interactions.csv", INTERACTION_HEADER, rows)
    options = FileImportOptions(all_or_nothing=True, create_customers=True, chunk_size=1)
    report = import_interactions_file(stores, CLI_OPERATOR, path, options)
    assert report.written and (report.customers_created, report.records_written) == (2, 2)
    found = people(stores, ["N1", "N2"])
    assert [r[:2] for r in interactions(stores)] == [found["N1"], found["N2"]]
