"""Segments through the HTTP API on real stores: counts, saving, membership, export, portraits."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from tagora.audiences import logic
from tagora.cli import app as cli_app
from tagora.core.auth import CLI_OPERATOR
from tagora.core.db import transaction
from tagora.core.stores import Stores, open_stores
from tagora.profiles import logic as profiles
from tagora.profiles.facade import ORDER_LINES
from tagora.settings import get_settings
from tests.conftest import login, run_cli

CATALOGUE = {"tier": "enum", "orders_90d": "number", "interests": "weighted", "province": "enum"}
GOLD = {"tag": "tier", "op": "=", "value": "gold"}


@pytest.fixture
def base(stores: Stores) -> dict[str, int]:
    return seed(stores)


def seed(stores: Stores) -> dict[str, int]:
    """40 customers; C000 has a formula for a name. Tags: tier, orders_90d, interests, province."""
    rows = [
        {"customer_key": f"C{i:03d}", "name": "=cmd|' /C calc'!A0" if i == 0 else f"Name {i}",
         "phone": f"+86138{i:08d}", "member_tier": "gold" if i % 4 == 0 else "silver"}
        for i in range(40)
    ]  # fmt: skip
    with transaction(stores.sessions) as session:
        uids = profiles.upsert_customers(session, CLI_OPERATOR, rows, "test")
    tags: dict[str, list[object]] = {"uid": [], "tag": [], "value": [], "number": [], "weight": []}

    def add(uid: int, tag: str, value: str | None, number: float | None, weight: float | None) -> None:
        for key, v in zip(tags, (uid, tag, value, number, weight), strict=True):
            tags[key].append(v)

    for i, (_, uid) in enumerate(sorted(uids.items())):
        add(uid, "tier", "gold" if i % 4 == 0 else "silver", None, None)
        add(uid, "orders_90d", None, float(i % 7), None)
        add(
            uid,
            "province",
            "浙江省" if i % 4 == 0 else ("广东省", "新疆维吾尔自治区", "北京市")[i % 3],
            None,
            None,
        )
        if i % 3 == 0:
            add(uid, "interests", "tea", None, round(i / 40, 2))
    logic.rebuild_index(stores, CATALOGUE, pa.table(tags))
    return uids


def test_a_live_count_while_editing(client: TestClient, users: dict[str, str], base: dict[str, int]) -> None:
    login(client, users["marketer"])
    body = {"expression": {"all": [GOLD, {"tag": "orders_90d", "op": ">=", "value": 3}]}}
    result = client.post("/api/segments/count", json=body).json()
    assert result["base"] == 40
    assert result["count"] == sum(1 for i in range(40) if i % 4 == 0 and i % 7 >= 3)
    bad = client.post("/api/segments/count", json={"expression": {"all": [{"tag": "tier", "op": "~"}]}})
    assert bad.status_code == 422 and bad.json()["error"]["data"]["path"] == "all.0.op"
    unknown = client.post("/api/segments/count", json={"expression": {"tag": "nope", "op": "is_set"}})
    assert unknown.status_code == 422 and unknown.json()["error"]["data"]["path"] == "tag"


def test_saved_segments_dynamic_and_static(
    client: TestClient, stores: Stores, users: dict[str, str], base: dict[str, int]
) -> None:
    login(client, users["marketer"])
    made = client.post("/api/segments", json={"code": "gold", "name": "Gold", "expression": GOLD})
    assert made.status_code == 201 and made.json()["size"] == 10
    frozen = {"code": "gold_now", "name": "Gold today", "kind": "static", "expression": {"segment": "gold"}}
    assert client.post("/api/segments", json=frozen).json()["size"] == 10
    again = client.post("/api/segments", json={"code": "gold", "name": "x", "expression": GOLD})
    assert again.status_code == 409
    loop = client.patch("/api/segments/gold", json={"expression": {"segment": "gold"}})
    assert loop.status_code == 422 and "itself" in loop.json()["error"]["message"]

    # Tags change: the dynamic segment follows, the static one keeps its members.
    one_gold = {"uid": [base["C001"]], "tag": ["tier"], "value": ["gold"], "number": [None], "weight": [None]}
    logic.rebuild_index(stores, CATALOGUE, pa.table(one_gold))
    assert logic.refresh_segments(stores) == 2
    sizes = {s["code"]: s["size"] for s in client.get("/api/segments").json()}
    assert sizes == {"gold": 1, "gold_now": 10}
    assert client.get("/api/segments/gold/sizes").json()[-1]["size"] == 1
    assert client.get("/api/segments/gold/members/C001").json()["member"] is True
    assert client.get("/api/segments/gold_now/members/C000").json()["member"] is True
    assert client.get("/api/segments/of/C001").json() == ["gold"]
    assert client.delete("/api/segments/gold").status_code == 204
    assert client.get("/api/segments/gold").status_code == 404
    login(client, users["sales"])
    assert (
        client.post("/api/segments", json={"code": "x1", "name": "x", "expression": GOLD}).status_code == 403
    )


def test_export_is_masked_per_role_and_neutralizes_formulas(
    client: TestClient, users: dict[str, str], base: dict[str, int]
) -> None:
    login(client, users["marketer"])
    client.post("/api/segments", json={"code": "gold", "name": "Gold", "expression": GOLD})
    login(client, users["sales"])
    text = client.get("/api/segments/gold/export", params={"fields": ["customer_key", "name", "phone"]}).text
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0] == "customer_key,name,phone" and len(lines) == 11
    first = lines[1].split(",")
    assert first[0] == "C000" and first[1].startswith("'=") and "****" in first[2]
    xlsx = client.get("/api/segments/gold/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row == 11
    bad = client.get("/api/segments/gold/export", params={"fields": ["password"]})
    assert bad.status_code == 422 and bad.json()["error"]["data"]["field"] == "fields"
    login(client, users["admin"])
    assert "+8613800000000" in client.get("/api/segments/gold/export").text


def test_portraits_hide_small_groups_from_roles_without_pii_view(
    client: TestClient, stores: Stores, users: dict[str, str], base: dict[str, int]
) -> None:
    login(client, users["admin"])
    small = {"all": [GOLD, {"tag": "orders_90d", "op": "=", "value": 0}]}
    client.post("/api/segments", json={"code": "tiny", "name": "Tiny", "expression": small})
    full = client.get("/api/segments/tiny/portrait").json()
    assert full["suppressed"] is False and full["size"] == 2
    login(client, users["marketer"])
    hidden = client.get("/api/segments/tiny/portrait").json()
    assert hidden["suppressed"] is True and hidden["size"] == 0
    tier = next(t for t in hidden["tags"] if t["name"] == "tier")
    assert all(v["count"] is None for v in tier["values"])

    line = {
        "order_id": "O1", "source": "t", "line_no": 1, "kind": "purchase", "sku": "SKU-1", "quantity": 1,
        "unit_price": Decimal("10"), "amount": Decimal("10"), "ordered_at": datetime(2026, 1, 1, tzinfo=UTC),
    }  # fmt: skip
    buyers = [base[f"C{i:03d}"] for i in range(12)]
    table = pa.Table.from_pylist(
        [{**line, "order_id": f"O{u}", "uid": u, "origin_uid": u} for u in buyers],
        schema=ORDER_LINES.to_pyarrow(),
    )
    stores.warehouse.insert("order_lines", table)
    product = client.get("/api/segments/portrait/product", params={"sku": "SKU-1"}).json()
    assert product["size"] == 12
    assert client.get("/api/segments/portrait/product").status_code == 422


def test_the_segments_command_counts_saves_and_exports(cli_home: Path, tmp_path: Path) -> None:
    stores = open_stores(get_settings())
    try:
        seed(stores)
    finally:
        stores.close()
    gold = json.dumps(GOLD)
    assert json.loads(run_cli("segments", "count", gold, "--json"))["count"] == 10
    assert json.loads(run_cli("segments", "count", 'tier = "gold"', "--json"))["count"] == 10
    assert json.loads(run_cli("segments", "create", "gold", "Gold", gold, "--json"))["size"] == 10
    assert [s["code"] for s in json.loads(run_cli("segments", "list", "--json"))] == ["gold"]
    out = tmp_path / "gold.xlsx"
    run_cli("segments", "export", "gold", "--output", str(out), "--field", "customer_key")
    assert load_workbook(out).active.max_row == 11  # type: ignore[union-attr]
    portrait = json.loads(run_cli("segments", "portrait", "gold", "--json"))
    top = portrait["distinguishing"][:2]  # every gold member is in 浙江 and every 浙江 member is gold
    assert {d["value"] for d in top} == {"gold", "浙江省"} and {d["tgi"] for d in top} == {400.0}
    result = CliRunner().invoke(cli_app, ["segments", "count", "{not json"])
    assert result.exit_code != 0


def test_lookalikes_of_a_segment_are_the_customers_sharing_its_distinguishing_tags(
    client: TestClient, users: dict[str, str], base: dict[str, int]
) -> None:
    login(client, users["marketer"])
    seed_expr = {"all": [GOLD, {"tag": "orders_90d", "op": "<", "value": 4}]}
    seed_size = client.post(
        "/api/segments", json={"code": "seed", "name": "Seed", "expression": seed_expr}
    ).json()["size"]
    others = 10 - seed_size  # gold customers outside the seed
    assert 0 < others < 10
    found = client.get("/api/segments/seed/lookalike", params={"n": others}).json()
    assert found["seed_size"] == seed_size and len(found["customers"]) == others
    members = {c["customer_key"] for c in found["customers"]}
    gold_outside = {f"C{i:03d}" for i in range(0, 40, 4) if i % 7 >= 4}
    assert members == gold_outside
    assert all("****" in c["phone"] for c in found["customers"])  # marketers see masked phones
    drivers = {(d["tag"], d["value"]) for d in found["drivers"]}
    assert {("tier", "gold"), ("province", "浙江省")} <= drivers
    assert client.get("/api/segments/seed/lookalike", params={"n": 0}).status_code == 422
    assert client.get("/api/segments/nope/lookalike").status_code == 404


def test_the_rule_language_text_form_selects_what_the_json_form_does(
    client: TestClient, users: dict[str, str], base: dict[str, int]
) -> None:
    login(client, users["marketer"])

    def count(**body: object) -> int:
        response = client.post("/api/segments/count", json=body)
        assert response.status_code == 200, response.text
        return int(response.json()["count"])

    json_form = {"all": [GOLD, {"tag": "orders_90d", "op": ">=", "value": 3}]}
    assert count(text='tier = "gold" and orders_90d >= 3') == count(expression=json_form) > 0
    assert count(text='interests = "tea" or not tier in ("gold")') == count(
        expression={
            "any": [
                {"tag": "interests", "op": "contains", "value": "tea"},
                {"not": {"tag": "tier", "op": "in", "value": ["gold"]}},
            ]
        }
    )
    assert count(text="orders_90d between 2 and 4 and interests is set") == count(
        expression={
            "all": [
                {"tag": "orders_90d", "op": "between", "value": [2, 4]},
                {"tag": "interests", "op": "is_set"},
            ]
        }
    )
    bad = client.post("/api/segments/count", json={"text": 'tier = "gold" and'})
    assert bad.status_code == 422
    assert bad.json()["error"]["data"] == {"field": "text", "line": 1, "column": 18}
    unknown = client.post("/api/segments/count", json={"text": "nope >= 1"})
    assert unknown.status_code == 422 and "nope" in unknown.json()["error"]["message"]
    saved = client.post(
        "/api/segments", json={"code": "gold3", "name": "G", "text": 'tier = "gold" and orders_90d >= 3'}
    )
    assert saved.status_code == 201 and saved.json()["size"] == count(expression=json_form)
    assert saved.json()["expression"] == json_form
