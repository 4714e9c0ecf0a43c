"""Manual tags put on customers by key, one or in bulk (API and CLI file), all rows or none."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.tags.cli import _assignments
from tagora.tags.logic import assign_by_key, install_definitions, validate_draft
from tagora.tags.queries import customer_tags
from tests.conftest import login


def install_complained(stores: Stores) -> None:
    draft = validate_draft(
        {"code": "complained", "name_zh": "投诉过", "name_en": "Complained", "category": "risk",
         "type": "manual", "value_type": "boolean", "spec": {"kind": "manual"}}
    )  # fmt: skip
    install_definitions(stores.sessions, CLI_OPERATOR, [draft], "test")


def complained(stores: Stores) -> dict[int, object]:
    t = stores.warehouse.table("tag_values")
    rows = t.filter(t.tag == "complained").select("uid", "value").to_pyarrow().to_pylist()
    return {r["uid"]: r["value"] for r in rows}


def test_rows_by_customer_key_are_all_put_on_or_none(shop: Stores) -> None:
    install_complained(shop)
    with pytest.raises(AppError, match=r"row 2: unknown customer 'zed'; row 4: unknown customer 'amy'"):
        assign_by_key(
            shop,
            CLI_OPERATOR,
            "complained",
            [("ann", "true"), ("zed", "true"), ("bob", "false"), ("amy", "1")],
        )
    with pytest.raises(AppError, match=r"row 3 \(cy\): 'maybe' is not a boolean value of 'complained'"):
        assign_by_key(shop, CLI_OPERATOR, "complained", [("ann", "true"), ("bob", "false"), ("cy", "maybe")])
    assert complained(shop) == {}
    assert (
        assign_by_key(shop, CLI_OPERATOR, "complained", [("ann", "true"), ("bob", "false"), ("ann", "false")])
        == 2
    )
    assert complained(shop) == {1: "false", 2: "false"}  # the last row for a person wins
    [value] = customer_tags(shop.warehouse, 2, "complained")
    assert value.source == "manual:cli"


def test_the_api_puts_a_manual_tag_on_customers(
    shop: Stores, client: TestClient, users: dict[str, str]
) -> None:
    install_complained(shop)
    login(client, users["analyst"])
    denied = client.post("/api/tags/complained/assign", json={"values": {"ann": "true"}})
    assert denied.status_code == 403
    login(client, users["sales"])
    bad = client.post("/api/tags/complained/assign", json={"values": {"ann": "true", "zed": "true"}})
    assert bad.status_code == 422 and "row 2: unknown customer 'zed'" in bad.json()["error"]["message"]
    done = client.post("/api/tags/complained/assign", json={"values": {"ann": "true"}, "comment": "phoned"})
    assert done.status_code == 200 and done.json() == {"assigned": 1}
    assert complained(shop) == {1: "true"}


def test_an_assignment_file_needs_its_columns(tmp_path: Path) -> None:
    good = tmp_path / "ok.csv"
    good.write_text("\ufeffcustomer,value\nann, true \nbob,false\n", encoding="utf-8")
    assert _assignments(good) == [("ann", "true"), ("bob", "false")]
    bad = tmp_path / "bad.csv"
    bad.write_text("key,value\nann,true\n", encoding="utf-8")
    with pytest.raises(AppError, match="needs the column\\(s\\) customer"):
        _assignments(bad)
