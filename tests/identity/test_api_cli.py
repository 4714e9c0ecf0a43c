"""The identity graph and manual merges through HTTP and the ``tagora identity`` command."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tagora.core.stores import Stores, open_stores
from tagora.settings import get_settings
from tests.conftest import login, run_cli
from tests.identity.conftest import APP, CRM, SHOP, import_source, write_csv
from tests.identity.test_merge_unmerge import EXPECTED, partition, person


def test_the_identity_graph_shows_records_identities_and_history_masked_per_role(
    client: TestClient, stores: Stores, users: dict[str, str], tmp_path: Path
) -> None:
    for system, rows in (("crm", CRM), ("shop", SHOP), ("app", APP)):
        import_source(stores, tmp_path, system, rows)
    login(client, users["marketer"])
    graph = client.get("/api/identity/S-1").json()
    assert [r["customer_key"] for r in graph["records"]] == ["C-1", "S-1", "A-9"]
    assert [r["survivor"] for r in graph["records"]] == [True, False, False]
    assert graph["masked"] is True
    phones = {i["value"] for i in graph["identities"] if i["type"] == "phone"}
    assert phones == {"+86138****8001"}
    assert sorted((m["rule"], m["evidence"]) for m in graph["merges"]) == [
        ("email", "w***@example.com"),
        ("phone", "+86138****8001"),
    ]
    assert client.post("/api/identity/merge", json={"a": "C-2", "b": "S-2"}).status_code == 403

    login(client, users["admin"])
    graph = client.get("/api/identity/C-1").json()
    assert {i["value"] for i in graph["identities"] if i["type"] == "phone"} == {"+8613800138001"}
    refused = client.post("/api/identity/merge", json={"a": "C-3", "b": "C-4"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "merge_refused"
    conflicts = client.get("/api/identity/conflicts").json()
    assert {(c["type"], c["reason"]) for c in conflicts} >= {("phone", "user_id:crm")}
    merged = client.post("/api/identity/merge", json={"a": "C-2", "b": "S-2", "comment": "called"})
    assert merged.status_code == 200 and merged.json()["merged"] == 1
    assert person(stores, "S-2") == "C-2"
    undone = client.post("/api/identity/unmerge", json={"key": "S-2", "comment": "wrong"})
    assert undone.status_code == 200 and undone.json()["separated"] == 1
    assert partition(stores) == EXPECTED
    missing = client.post("/api/identity/unmerge", json={"key": "nobody"})
    assert missing.status_code == 404 and missing.json()["error"]["data"]["field"] == "key"
    assert client.get("/api/identity/nobody").status_code == 404


def test_the_identity_command_shows_merges_and_unmerges(cli_home: Path, tmp_path: Path) -> None:
    crm = write_csv(tmp_path / "crm.csv", ("customer_key", "name", "phone", "email"), CRM)
    shop = write_csv(tmp_path / "shop.csv", ("customer_key", "name", "phone", "email"), SHOP)
    run_cli("import", "customers", str(crm), "--source", "crm")
    report = json.loads(run_cli("import", "customers", str(shop), "--source", "shop", "--json"))
    assert report["merged"] == 1 and report["identity_conflicts"] == 0
    graph = json.loads(run_cli("identity", "show", "S-1", "--json"))
    assert [r["customer_key"] for r in graph["records"]] == ["C-1", "S-1"]
    assert json.loads(run_cli("identity", "unmerge", "S-1", "-m", "not her", "--json"))["separated"] == 1
    assert json.loads(run_cli("identity", "resolve", "--json"))["merged"] == 0  # the separation holds
    assert json.loads(run_cli("identity", "merge", "S-1", "C-1", "--json"))["merged"] == 1
    conflicts = json.loads(run_cli("identity", "conflicts", "--json"))
    assert [c["value"] for c in conflicts] == ["+8613800138003"]
    stores = open_stores(get_settings())
    try:
        assert person(stores, "S-1") == "C-1"
    finally:
        stores.close()


def test_identity_resolution_runs_on_postgresql(pg_stores: Stores, tmp_path: Path) -> None:
    for system, rows in (("app", APP), ("crm", CRM), ("shop", SHOP)):
        import_source(pg_stores, tmp_path, system, rows)
    assert partition(pg_stores) == EXPECTED
    from tagora.core.auth import CLI_OPERATOR
    from tagora.identity import logic

    logic.unmerge_profile(pg_stores, CLI_OPERATOR, key="A-9")
    assert person(pg_stores, "A-9") == "A-9" and person(pg_stores, "S-1") == "C-1"
